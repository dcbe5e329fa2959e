// The README's main job, `othrun experiments/l6_sae.yaml`, on the shipped model, probe and SAEs:
// it succeeds, its results are those of working artifacts, and its report shows every figure of
// the seed notebook, rendered in headless Chromium (screenshot in test-output/report/).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"
#include "report_fixture.hpp"

namespace fs = std::filesystem;
using othrun::testing::figure_elements;
using othrun::testing::run_chromium;
using othrun::testing::run_command;
using othrun::testing::shell_quote;
using othrun::testing::TempDir;

namespace {

const fs::path kExperiment = fs::path(OTHRUN_SOURCE_DIR) / "experiments" / "l6_sae.yaml";

// The figure ids (product/figure) the seed notebook's plots map to.
std::vector<std::string> seed_figures() {
  std::vector<std::string> ids = {
      "boards/game4_ply20",         // plot_single_board
      "cache/logprob_board",        // log-prob board of game 0 after 30 moves
      "probe/accuracy_board",       // probe accuracy per square
      "max_act_l0/mean_board",      // max-activating examples, signed mean board
      "max_act_l0/mean_abs_board",  // ... and absolute
      "max_act_l0/active_moves",    // moves played when the neuron fires
      "spectrum_l0/spectrum",       // spectrum plot
  };
  for (const char* width : {"128", "256", "512", "1024"}) {
    const std::string corr = std::string("corr_") + width;
    ids.push_back(corr + "/correlation_histogram");
    ids.push_back(corr + "/top_pairs");
    for (int pair = 1; pair <= 10; ++pair) ids.push_back(corr + "/pair_" + std::to_string(pair));
  }
  return ids;
}

std::string figure_id(const std::string& figure) {
  const auto start = figure.find("id=\"fig-") + 8;
  return figure.substr(start, figure.find('"', start) - start);
}

void expect_every_step(const fs::path& index) {
  othrun::Store store(index);
  for (const char* label : {"games", "boards", "cache", "probe", "max_act_l0", "spectrum_l0",
                            "sae_128", "corr_128", "sae_1024", "corr_1024", "dash_sae_1024",
                            "dash_l0_mlp"}) {
    EXPECT_TRUE(store.has(label)) << label;
  }
}

void expect_working_artifacts(const fs::path& index) {
  othrun::Store store(index);
  // The shipped probe reads the board: mean accuracy over squares on fresh games.
  auto accuracy =
      store.open("probe").root().group("accuracy").dataset("per_square").read_all<double>();
  const double mean = std::accumulate(accuracy.begin(), accuracy.end(), 0.0) / accuracy.size();
  EXPECT_GT(mean, 0.8);  // 0.865 for the shipped probe; a random one gives ~0.4
  // The chosen layer-0 neuron separates "move just played == square" clearly.
  EXPECT_GT(store.open("spectrum_l0").root().attrs().get_float("auroc"), 0.95);
}

void expect_every_seed_figure(const fs::path& page, const fs::path& profiles) {
  ASSERT_TRUE(fs::exists(page));
  const auto dumped = run_chromium(OTHRUN_CHROMIUM, profiles / "profile", "--dump-dom", page);
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_NE(dumped.out.find("data-render-state=\"done\""), std::string::npos);
  EXPECT_NE(dumped.out.find("data-render-errors=\"0\""), std::string::npos);
  EXPECT_EQ(dumped.err.find("CONSOLE"), std::string::npos) << dumped.err;

  std::vector<std::string> rendered;
  for (const auto& figure : figure_elements(dumped.out)) {
    const bool table = figure.find("class=\"figure-table\"") != std::string::npos;
    const bool drawn = table ? figure.find("<td>") != std::string::npos
                             : figure.find("data-rendered=\"1\"") != std::string::npos &&
                                   figure.find("main-svg") != std::string::npos;
    EXPECT_TRUE(drawn) << figure_id(figure) << " did not render";
    if (drawn) rendered.push_back(figure_id(figure));
  }
  for (const auto& id : seed_figures()) {
    EXPECT_NE(std::find(rendered.begin(), rendered.end(), id), rendered.end()) << id;
  }

  const fs::path output = OTHRUN_REPORT_TEST_OUTPUT;
  fs::create_directories(output);
  const fs::path screenshot = output / "l6_sae.png";
  const auto shot = othrun::testing::run_chromium_screenshot(
      OTHRUN_CHROMIUM, profiles / "profile-shot", page, screenshot, 16000);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  EXPECT_TRUE(fs::exists(screenshot)) << shot.err;
}

}  // namespace

// One test, so the job runs once.
TEST(MainJob, RunsWithWorkingArtifactsAndReportsEverySeedFigure) {
  TempDir dir;
  const fs::path index = dir / "l6.h5";
  const auto result =
      run_command(shell_quote(OTHRUN_EXE) + " " + shell_quote(kExperiment.string()) +
                  " --set store=" + shell_quote(index.string()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  expect_every_step(index);
  expect_working_artifacts(index);
  if (std::string(OTHRUN_CHROMIUM).empty()) {
    GTEST_SKIP() << "chromium not found (scripts/setup.sh installs it)";
  }
  expect_every_seed_figure(dir / "l6.report.html", dir.path());
}

// The experiments that made the shipped artifacts still validate against today's plugins.
TEST(MainJob, TrainingExperimentsAreValid) {
  for (const char* name : {"train_model.yaml", "train_probe_sae.yaml", "l6_sae.yaml"}) {
    const fs::path file = fs::path(OTHRUN_SOURCE_DIR) / "experiments" / name;
    const auto result =
        run_command(shell_quote(OTHRUN_EXE) + " --check " + shell_quote(file.string()));
    EXPECT_EQ(result.exit_code, 0) << name << ":\n" << result.err;
  }
}
