// kill -9 at chosen moments of a commit and at arbitrary moments of a real experiment, then a
// rerun: nothing finished is lost and the store equals that of an uninterrupted run.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "reliability_util.hpp"
#include "test_helpers.hpp"

namespace othrun::reliability {
namespace {

using testing::TempDir;
using testing::write_file;

// The store of an uninterrupted run of the real experiment.
std::map<std::string, std::string> reference(const TempDir& dir) {
  write_file(dir / "reference.yaml", real_experiment("reference/rel.h5"));
  const Result result = run({(dir / "reference.yaml").string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return snapshot(dir / "reference/rel.h5");
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

// Product id of each complete product file in `folder` (unreadable ones are left out).
std::map<std::string, std::string> product_ids(const fs::path& folder) {
  std::map<std::string, std::string> ids;
  if (!fs::exists(folder)) return ids;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".h5") continue;
    try {
      if (root_attribute(entry.path(), "othrun.label") == entry.path().stem().string()) {
        ids[entry.path().stem().string()] = root_attribute(entry.path(), "othrun.product_id");
      }
    } catch (const std::exception&) {
      // not a complete product: nothing finished to keep
    }
  }
  return ids;
}

// After a crash, a rerun completes the store and (`keep_finished`) keeps every product that was
// finished. (After a crash during --force, products downstream of a replaced one are stale and
// rightly redone.)
void expect_rerun_completes(const fs::path& yaml, const fs::path& index,
                            const std::map<std::string, std::string>& expected,
                            const std::string& context, bool keep_finished = true) {
  const fs::path folder = fs::path(index).replace_extension(".d");
  const auto finished = keep_finished ? product_ids(folder) : std::map<std::string, std::string>{};
  const Result rerun = run({yaml.string()});
  ASSERT_EQ(rerun.exit_code, 0) << context << "\n" << rerun.output;
  for (const auto& [label, id] : finished) {
    EXPECT_EQ(root_attribute(folder / (label + ".h5"), "othrun.product_id"), id)
        << context << ": finished product '" << label << "' was redone";
  }
  EXPECT_EQ(index_links(index), sorted(real_steps())) << context;
  EXPECT_EQ(snapshot(index), expected) << context;
  EXPECT_EQ(leftovers(index.parent_path()), std::vector<std::string>{}) << context;
}

TEST(Crashes, KillNineInsideACommitThenRerunCompletesTheStore) {
  TempDir dir;
  const auto expected = reference(dir);
  // Every window of Store::commit and of the index write, at different steps of the experiment:
  // the fault point, which time it is reached, and how many products are finished at that moment.
  // (index.create is reached once at the start, for the new store's empty index.)
  struct Kill {
    std::string point;
    int occurrence;
    size_t finished;
  };
  const std::vector<Kill> kills = {{"commit.closed", 1, 0},
                                   {"index.create", 3, 1},
                                   {"commit.index_written", 2, 1},
                                   {"commit.renamed", 3, 3},
                                   {"commit.done", 1, 1}};
  int n = 0;
  for (const auto& [point, occurrence, finished] : kills) {
    const std::string context = point + " of commit " + std::to_string(occurrence);
    const std::string store = "store" + std::to_string(n++) + "/rel.h5";
    write_file(dir / "e.yaml", real_experiment(store));
    const Result killed = run({(dir / "e.yaml").string()},
                              with_fault(point + "#" + std::to_string(occurrence) + ":kill"));
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << context << "\n" << killed.output;
    // Commits before the killed one (and the killed one, once its product is in place) are kept.
    EXPECT_EQ(product_ids(dir / fs::path(store).replace_extension(".d")).size(), finished)
        << context;
    expect_rerun_completes(dir / "e.yaml", dir / store, expected, context);
  }
}

TEST(Crashes, KillNineWhileReplacingAProductThenRerunCompletesTheStore) {
  TempDir dir;
  write_file(dir / "e.yaml", real_experiment());
  ASSERT_EQ(run({(dir / "e.yaml").string()}).exit_code, 0);
  const auto expected = snapshot(dir / "out/rel.h5");
  for (const auto& [point, occurrence] : std::vector<std::pair<std::string, int>>{
           {"commit.moved_aside", 1}, {"commit.renamed", 2}, {"commit.index_written", 3}}) {
    const std::string context = "--force, " + point + " of commit " + std::to_string(occurrence);
    const Result killed = run({"--force", (dir / "e.yaml").string()},
                              with_fault(point + "#" + std::to_string(occurrence) + ":kill"));
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << context << "\n" << killed.output;
    expect_rerun_completes(dir / "e.yaml", dir / "out/rel.h5", expected, context, false);
  }
}

TEST(Crashes, KillNineWhileEachStepIsWrittenThenRerunEqualsAnUninterruptedRun) {
  TempDir dir;
  const auto expected = reference(dir);
  write_file(dir / "e.yaml", real_experiment());
  // Each run is killed as soon as step `label` is being written: the first run in the first step,
  // its rerun (which redoes that step) in the second, and so on.
  int kills = 0;
  for (const auto& label : real_steps()) {
    Process process({(dir / "e.yaml").string()}, dir / "log");
    const fs::path partial = dir / ("out/rel.d/" + label + ".h5.partial");
    while (!fs::exists(partial) && process.running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    process.signal(SIGKILL);
    const int code = process.wait();
    EXPECT_TRUE(code == 128 + SIGKILL || code == 0) << label << ": " << process.output();
    kills += code == 128 + SIGKILL;
  }
  EXPECT_GE(kills, 2);
  expect_rerun_completes(dir / "e.yaml", dir / "out/rel.h5", expected, "after the kills");
}

}  // namespace
}  // namespace othrun::reliability
