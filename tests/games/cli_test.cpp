// The games plugin run by the real `othrun` executable, and the example experiments validated.
#include <othrun/games.hpp>
#include <othrun/store.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "temp_dir.hpp"

namespace othrun::games {
namespace {

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult othrun(const std::string& arguments) {
  const std::string command =
      std::string(OTHRUN_EXE) + " --plugin-path " + OTHRUN_PLUGIN_DIR + " " + arguments + " 2>&1";
  CommandResult result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
  result.status = ::pclose(pipe);
  return result;
}

TEST(GamesCli, ExampleExperimentsAreValid) {
  for (const char* name : {"games.yaml", "bench_games_100k.yaml"}) {
    const auto result =
        othrun(std::string("--check ") + OTHRUN_SOURCE_DIR + "/experiments/" + name);
    EXPECT_EQ(result.status, 0) << name << ":\n" << result.output;
  }
}

TEST(GamesCli, RunsAnExperimentIntoAStore) {
  test::ScratchDir dir;
  std::ofstream(dir / "games.yaml") << "name: cli\n"
                                       "store: out/games.h5\n"
                                       "seed: 3\n"
                                       "steps:\n"
                                       "  - plugin: games\n"
                                       "    games: 250\n"
                                       "    full_games_only: true\n"
                                       "  - plugin: games\n"
                                       "    label: imported\n"
                                       "    source: npy\n"
                                       "    path: "
                                    << OTHRUN_SOURCE_DIR << "/tests/fixtures/games/int_i8_v1.npy\n";
  const auto result = othrun("--threads 2 " + (dir / "games.yaml").string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("detected the 'int' encoding"), std::string::npos) << result.output;
  const Store store(dir / "out" / "games.h5");
  const Product synthetic = store.open("games");
  EXPECT_EQ(GamesReader(synthetic).size(), 250u);
  const Product imported = store.open("imported");
  EXPECT_EQ(GamesReader(imported).size(), 8u);
}

TEST(GamesCli, IllegalGameFailsTheStepAndLeavesNoProduct) {
  test::ScratchDir dir;
  std::ofstream(dir / "bad.yaml") << "name: bad\nstore: out/bad.h5\nsteps:\n"
                                     "  - plugin: games\n    source: npy\n    path: "
                                  << OTHRUN_SOURCE_DIR << "/tests/fixtures/games/int_illegal.npy\n";
  const auto result = othrun((dir / "bad.yaml").string());
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("int_illegal.npy: game 1, ply 5: A0 is not a valid move"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(Store(dir / "out" / "bad.h5").has("games"));
}

}  // namespace
}  // namespace othrun::games
