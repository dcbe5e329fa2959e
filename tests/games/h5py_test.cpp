// Reads games products with Debian's python3 + h5py, unpacking the bitboards exactly as
// docs/games.md says, and compares with the C++ engine's boards. Skipped without h5py.
#include <othrun/games.hpp>
#include <othrun/npy.hpp>
#include <othrun/plugin.hpp>

#include <gtest/gtest.h>

#include <cstdio>

#include "step_runner.hpp"
#include "temp_dir.hpp"

extern "C" const othrun::PluginInfo* othrun_plugin_info();

namespace othrun::games {
namespace {

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
  result.status = ::pclose(pipe);
  return result;
}

bool have_h5py() {
  const std::string python = OTHRUN_PYTHON3;
  return !python.empty() && run_command(python + " -c 'import h5py, numpy'").status == 0;
}

Config config_with(std::map<std::string, Value> overrides) {
  const Schema schema = othrun_plugin_info()->describe();
  std::map<std::string, Value> values;
  for (const auto& spec : schema.params()) {
    if (spec.default_value) values[spec.name] = *spec.default_value;
  }
  for (auto& [key, value] : overrides) values[key] = std::move(value);
  return Config("games", "games", values);
}

class H5py : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_h5py()) GTEST_SKIP() << "no python3 with h5py and numpy";
  }
  void run_step(const std::string& label, std::map<std::string, Value> overrides) {
    const Config config = config_with(std::move(overrides));
    auto step = othrun_plugin_info()->create(config);
    test::run_into(store_, label, 7, 2, [&](RunContext& ctx) { step->run(ctx); });
  }
  // Runs the Python check of product `label` against `expected` boards.
  void check(const std::string& label, const std::filesystem::path& expected) {
    const std::string command = std::string(OTHRUN_PYTHON3) + " " + OTHRUN_SOURCE_DIR +
                                "/tests/games/check_games_h5.py " + (dir_ / "store.h5").string() +
                                " " + label + " " + expected.string();
    const CommandResult result = run_command(command);
    EXPECT_EQ(result.status, 0) << result.output;
  }

  test::ScratchDir dir_;
  Store store_{dir_ / "store.h5"};
};

TEST_F(H5py, UnpackedBitboardsMatchThePythonReference) {
  run_step("imported", {{"source", std::string("npy")},
                        {"path", test::fixture("string_i8_v1.npy").string()},
                        {"dense", true}});
  check("imported", test::fixture("expected_states.npy"));
}

TEST_F(H5py, UnpackedBitboardsMatchTheEngine) {
  run_step("synthetic", {{"games", std::int64_t{300}}, {"mine_theirs", std::string("parity")}});
  const Product product = store_.open("synthetic");
  const GamesReader reader(product);
  const auto boards = reader.read(0, reader.size()).boards(Frame::BlackWhite);
  const auto expected = dir_ / "engine_boards.npy";
  npy::write<std::int8_t>(expected, {reader.size(), 60, 64}, boards);
  check("synthetic", expected);
}

}  // namespace
}  // namespace othrun::games
