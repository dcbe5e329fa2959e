// Plugin loading failures: each names the library path and the reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "plugin/registry.hpp"
#include "test_helpers.hpp"

namespace othrun {
namespace {

std::string load_error(const std::filesystem::path& path) {
  try {
    PluginRegistry::load_file(path);
  } catch (const PluginError& error) {
    return error.what();
  }
  return "";
}

const std::string kBroken = OTHRUN_BROKEN_PLUGIN_DIR;

TEST(Loader, LoadsAPluginAndItsSchema) {
  auto plugin = PluginRegistry::load_file(std::string(OTHRUN_TEST_PLUGIN_DIR) + "/test_counter.so");
  EXPECT_STREQ(plugin->info->name, "test_counter");
  EXPECT_STREQ(plugin->info->version, "0.1.0");
  ASSERT_NE(plugin->schema.find("rows"), nullptr);
  EXPECT_EQ(plugin->schema.kinds(), std::vector<std::string>{"counter"});
}

TEST(Loader, MissingFile) {
  EXPECT_EQ(load_error(kBroken + "/absent.so"), kBroken + "/absent.so: no such file");
}

TEST(Loader, NotASharedLibraryGivesTheDlerrorText) {
  testing::TempDir dir;
  testing::write_file(dir / "junk.so", std::string(4096, 'x'));
  const std::string message = load_error(dir / "junk.so");
  EXPECT_EQ(message.rfind((dir / "junk.so").string() + ": cannot load: ", 0), 0u) << message;
  EXPECT_NE(message.find("junk.so"), std::string::npos);
  EXPECT_NE(message.find("invalid ELF header"), std::string::npos) << message;
}

TEST(Loader, LibraryWithoutEntryPoint) {
  EXPECT_EQ(load_error(kBroken + "/no_entry.so"),
            kBroken +
                "/no_entry.so: not an othrun plugin: no entry point 'othrun_plugin_info' "
                "(missing OTHRUN_PLUGIN(...)?)");
}

TEST(Loader, AbiMismatch) {
  EXPECT_EQ(load_error(kBroken + "/bad_abi.so"),
            kBroken + "/bad_abi.so: plugin ABI version " + std::to_string(kPluginAbiVersion + 998) +
                ", but this othrun needs version " + std::to_string(kPluginAbiVersion) +
                ": "
                "rebuild the plugin against this othrun SDK");
}

TEST(Loader, FileNameMustMatchThePluginName) {
  EXPECT_EQ(load_error(kBroken + "/misnamed.so"),
            kBroken +
                "/misnamed.so: the library declares plugin 'declared_name'; its file must "
                "be named 'declared_name.so'");
}

TEST(Loader, UnknownNameListsTheNearestKnownNames) {
  PluginRegistry plugins({OTHRUN_TEST_PLUGIN_DIR});
  try {
    plugins.get("test_countre");
    FAIL() << "expected a PluginError";
  } catch (const PluginError& error) {
    EXPECT_EQ(std::string(error.what()),
              "unknown plugin 'test_countre'; did you mean test_counter? (known plugins: "
              "test_counter; searched: " OTHRUN_TEST_PLUGIN_DIR ")");
  }
}

TEST(Loader, SearchPathOrderAndEnvironment) {
  setenv("OTHRUN_PLUGIN_PATH", "/env/a:/env/b", 1);
  auto path = PluginRegistry::default_search_path({"/cli"}, "/build/plugins");
  unsetenv("OTHRUN_PLUGIN_PATH");
  ASSERT_GE(path.size(), 5u);
  EXPECT_EQ(path[0], "/cli");
  EXPECT_EQ(path[1], "/env/a");
  EXPECT_EQ(path[2], "/env/b");
  EXPECT_EQ(path[3].filename(), "plugins");  // <prefix>/lib/othrun/plugins beside the executable
  EXPECT_EQ(path.back(), "/build/plugins");
}

TEST(Loader, UnresolvedSymbolIsALoadErrorNamingIt) {
  // Loaded lazily, this library would load, then kill the process when its entry point runs.
  const std::string message = load_error(kBroken + "/unresolved.so");
  EXPECT_EQ(message.rfind(kBroken + "/unresolved.so: cannot load: ", 0), 0u) << message;
  EXPECT_NE(message.find("undefined symbol: othrun_test_symbol_nobody_defines"), std::string::npos)
      << message;
}

TEST(Loader, PluginNamesAreIdentifiersNeverPaths) {
  EXPECT_TRUE(is_plugin_name("test_counter"));
  EXPECT_TRUE(is_plugin_name("Sae2"));
  for (const char* bad : {"", "a/b", "../x", "/abs/evil", "a.b", "a-b", "a b", "é"}) {
    EXPECT_FALSE(is_plugin_name(bad)) << bad;
  }
  // Before the check, dir / "../broken-plugins/evil.so" reached a library outside the search path.
  PluginRegistry plugins({OTHRUN_TEST_PLUGIN_DIR});
  for (const std::string& name : {kBroken + "/evil", std::string("../broken-plugins/evil")}) {
    try {
      plugins.get(name);
      FAIL() << "expected a PluginError for " << name;
    } catch (const PluginError& error) {
      EXPECT_EQ(std::string(error.what()), not_a_plugin_name(name));
      EXPECT_NE(std::string(error.what()).find("letters, digits and '_'"), std::string::npos);
    }
  }
}

namespace {
std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

// A plugin file cut short (an interrupted copy or install). Without the ELF check, dlopen of most
// of these lengths dies with SIGBUS inside the dynamic loader.
TEST(Loader, TruncatedLibrariesAreLoadErrorsNotCrashes) {
  const std::string whole = read_bytes(std::string(OTHRUN_TEST_PLUGIN_DIR) + "/test_counter.so");
  ASSERT_GT(whole.size(), 20000u);
  const std::size_t n = whole.size();
  const std::vector<std::size_t> lengths = {
      0,     3,     40,        64,        200,       1000,     4096,   n / 8, n / 4,
      n / 3, n / 2, 2 * n / 3, 3 * n / 4, 7 * n / 8, n - 4096, n - 64, n - 1};
  testing::TempDir dir;
  for (const std::size_t length : lengths) {
    const auto path = dir / "test_counter.so";
    testing::write_file(path, whole.substr(0, length));
    const std::string message = load_error(path);
    EXPECT_EQ(message.rfind(path.string() + ": cannot load: ", 0), 0u) << length << ": " << message;
    const bool explained = message.find("truncated or damaged ELF file") != std::string::npos ||
                           message.find("invalid ELF header") != std::string::npos;
    EXPECT_TRUE(explained) << length << ": " << message;
  }
  // The whole file, copied the same way, loads: the check rejects damage, not copies.
  testing::write_file(dir / "test_counter.so", whole);
  EXPECT_EQ(load_error(dir / "test_counter.so"), "");
}

TEST(Loader, ListReportsATruncatedLibraryAndTheOthers) {
  const std::string whole = read_bytes(std::string(OTHRUN_TEST_PLUGIN_DIR) + "/test_counter.so");
  testing::TempDir dir;
  for (const std::size_t length : {whole.size() / 2, whole.size() - 1}) {
    testing::write_file(dir / "test_counter.so", whole.substr(0, length));
    const auto result = testing::run_command(std::string(OTHRUN_EXE) + " --plugin-path " +
                                             testing::shell_quote(dir.path().string()) + " --list");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("error: " + (dir / "test_counter.so").string() +
                              ": cannot load: truncated or damaged ELF file"),
              std::string::npos)
        << result.out;
  }
}

TEST(Loader, ListDoesNotLoadAFileWhoseNameIsNotAPluginName) {
  testing::TempDir dir;
  std::filesystem::copy_file(kBroken + "/evil.so", dir / "not-a-name.so");
  const auto marker = dir / "marker";
  const auto result = testing::run_command(
      "OTHRUN_TEST_MARKER=" + testing::shell_quote(marker.string()) + " " + OTHRUN_EXE +
      " --plugin-path " + testing::shell_quote(dir.path().string()) + " --list");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("not loaded: 'not-a-name' is not a plugin name"), std::string::npos)
      << result.out;
  EXPECT_FALSE(std::filesystem::exists(marker));
}

}  // namespace
}  // namespace othrun
