// The board plugin end to end: games -> board -> figures in the store and in the run's report.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"

namespace fs = std::filesystem;
using othrun::testing::run_command;
using othrun::testing::shell_quote;
using othrun::testing::TempDir;
using othrun::testing::write_file;

namespace {

othrun::testing::CommandResult run_experiment(const fs::path& yaml) {
  return run_command(std::string(OTHRUN_EXE) + " --plugin-path " + shell_quote(OTHRUN_PLUGIN_DIR) +
                     " " + shell_quote(yaml.string()));
}

std::string experiment(const std::string& boards, const std::string& key = "boards") {
  return "name: boards\nstore: out/boards.h5\nseed: 1\nsteps:\n"
         "  - plugin: games\n    label: games\n    source: synthetic\n    games: 10\n"
         "  - plugin: board\n    label: boards\n    games: games\n    " +
         key + ": " + boards + "\n";
}

}  // namespace

TEST(BoardPlugin, DrawsNamedPositionsIntoTheRunReport) {
  TempDir dir;
  write_file(dir / "x.yaml", experiment("[\"game 0 ply 0\", \"game 4 ply 20\"]"));
  const auto result = run_experiment(dir / "x.yaml");
  ASSERT_EQ(result.exit_code, 0) << result.err;

  othrun::Store store(dir / "out/boards.h5");
  const othrun::Product boards = store.open("boards");
  const auto figures = othrun::report::read_figures(boards.root());
  ASSERT_EQ(figures.size(), 2u);
  EXPECT_EQ(figures[0].name, "game0_ply0");
  EXPECT_EQ(figures[1].name, "game4_ply20");
  EXPECT_EQ(figures[0].kind, "board");
  EXPECT_NE(figures[0].plotly_json.find("\"name\":\"last move\""), std::string::npos);

  // The runner wrote the report beside the store, steps in the order they ran.
  std::ifstream in(dir / "out/boards.report.html");
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_NE(page.str().find("id=\"fig-boards/game4_ply20\""), std::string::npos);
  EXPECT_LT(page.str().find("id=\"step-games\""), page.str().find("id=\"step-boards\""));
  EXPECT_NE(result.err.find("boards.report.html"), std::string::npos) << result.err;
}

TEST(BoardPlugin, RejectsBadPositionsBeforeRunning) {
  TempDir dir;
  write_file(dir / "x.yaml", experiment("[\"4:20\"]"));
  const auto result = run_experiment(dir / "x.yaml");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("'4:20' is not \"game G ply P\""), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "out/boards.h5"));
}

// The old key, whose "GAME:PLY" entries looked like position ranges, says what replaced it.
TEST(BoardPlugin, OldPositionsKeyNamesItsReplacement) {
  TempDir dir;
  write_file(dir / "x.yaml", experiment("[\"4:20\"]", "positions"));
  const auto result = run_experiment(dir / "x.yaml");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("step 'boards' (board): 'positions' is no longer a parameter: renamed "
                            "'boards', each entry \"game G ply P\""),
            std::string::npos)
      << result.err;
}

TEST(BoardPlugin, ReportsAGameOutOfRange) {
  TempDir dir;
  write_file(dir / "x.yaml", experiment("[\"game 99 ply 0\"]"));
  const auto result = run_experiment(dir / "x.yaml");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("game 99 is out of range"), std::string::npos) << result.err;
}

TEST(ReportPlotly, FoundInTheBuildTree) {
  if (!fs::exists(OTHRUN_TEST_PLOTLY_JS))
    GTEST_SKIP() << "plotly.js not installed (scripts/setup.sh)";
  const auto found = othrun::report::find_plotly_js();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fs::canonical(*found), fs::canonical(OTHRUN_TEST_PLOTLY_JS));
}
