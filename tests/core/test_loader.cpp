// Plugin loading failures: each names the library path and the reason.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace othrun
