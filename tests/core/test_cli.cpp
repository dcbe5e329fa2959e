// End-to-end runs of the othrun executable.
#include <gtest/gtest.h>

#include <othrun/store.hpp>

#include <chrono>
#include <sstream>
#include <thread>

#include "test_helpers.hpp"

namespace othrun {
namespace {

using testing::run_command;
using testing::run_othrun;
using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

const char* kTwoSteps =
    "name: cli\n"
    "store: out/store.h5\n"
    "seed: 3\n"
    "steps:\n"
    "  - plugin: test_counter\n"
    "    label: first\n"
    "    rows: 4\n"
    "  - plugin: test_counter\n"
    "    label: second\n"
    "    rows: 3\n"
    "    source: first\n";

std::vector<std::int64_t> values(const fs::path& store_path, const std::string& label) {
  Store store(store_path);
  return store.open(label).root().dataset("values").read_all<std::int64_t>();
}

TEST(Cli, HelpAndUsageErrors) {
  auto help = run_othrun("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: othrun [options] EXPERIMENT.yaml"), std::string::npos);
  auto bad = run_othrun("--frobnicate");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unrecognised option '--frobnicate'"), std::string::npos) << bad.err;
  auto none = run_othrun("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no experiment file given"), std::string::npos);
}

TEST(Cli, ListShowsVersionAvailabilityAndPath) {
  auto list = run_othrun("--list");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("test_counter         0.1.0     available"), std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find(std::string(OTHRUN_TEST_PLUGIN_DIR) + "/test_counter.so"),
            std::string::npos);
  EXPECT_NE(list.out.find("random_directions    1.0.0     available"), std::string::npos);
}

TEST(Cli, ListLoadsEveryBuiltPluginWithoutError) {
  auto list = testing::run_command(std::string(OTHRUN_EXE) + " --list");
  ASSERT_EQ(list.exit_code, 0);
  int plugins = 0;
  for (const auto& entry : fs::directory_iterator(OTHRUN_PLUGIN_DIR)) {
    if (entry.path().extension() != ".so") continue;
    ++plugins;
    const std::string name = entry.path().stem().string();
    // The line that starts with the name (a name may also end another plugin's name).
    std::string line;
    std::istringstream lines(list.out);
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind(name + " ", 0) == 0) line = l;
    }
    ASSERT_FALSE(line.empty()) << name << " missing from:\n" << list.out;
    EXPECT_EQ(line.find("error:"), std::string::npos) << line;
    EXPECT_NE(line.find(entry.path().string()), std::string::npos) << line;
  }
  EXPECT_GE(plugins, 2);  // at least games and random_directions
}

TEST(Cli, DescribeAndItsDefaultYamlStepValidates) {
  auto describe = run_othrun("--describe test_counter");
  EXPECT_EQ(describe.exit_code, 0);
  EXPECT_NE(describe.out.find("  scale                float           1              multiplies "
                              "every value\n                       range [0, 100]"),
            std::string::npos)
      << describe.out;
  EXPECT_NE(describe.out.find("one of: plain, squared"), std::string::npos);

  auto yaml = run_othrun("--describe random_directions --yaml");
  ASSERT_EQ(yaml.exit_code, 0);
  TempDir dir;
  write_file(dir / "e.yaml", "name: d\nstore: s.h5\nsteps:\n" + yaml.out);
  auto check = run_othrun("--check " + (dir / "e.yaml").string());
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("OK (1 steps)"), std::string::npos);

  auto unknown = run_othrun("--describe nosuch");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown plugin 'nosuch'"), std::string::npos);
}

TEST(Cli, CheckReportsProblemsWithLinesAndExitsTwo) {
  TempDir dir;
  write_file(dir / "e.yaml",
             "name: x\nstore: s.h5\nsteps:\n  - plugin: test_counter\n    rows: x\n");
  auto check = run_othrun("--check " + (dir / "e.yaml").string());
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find((dir / "e.yaml").string() + ":5: step 'test_counter' (test_counter): "
                                                       "'rows' must be an integer, got 'x'"),
            std::string::npos)
      << check.err;
  EXPECT_NE(check.err.find("1 problem in"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "s.h5"));  // nothing was run or created
}

TEST(Cli, RunsSkipsUpToDateStepsAndRerunsChangedOnes) {
  TempDir dir;
  write_file(dir / "e.yaml", kTwoSteps);
  const std::string exp = (dir / "e.yaml").string();
  auto first = run_othrun(exp);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(values(dir / "out/store.h5", "first"), (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(values(dir / "out/store.h5", "second"), (std::vector<std::int64_t>{6, 7, 8}));

  auto again = run_othrun(exp);
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_NE(again.err.find("step 'first' (test_counter): up to date, skipped"), std::string::npos);
  EXPECT_NE(again.err.find("step 'second' (test_counter): up to date, skipped"), std::string::npos);

  // A changed upstream config reruns it and, through its new product id, its consumer.
  auto changed = run_othrun("--set first.rows=2 " + exp);
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_NE(changed.err.find("step 'second' (test_counter): running"), std::string::npos);
  EXPECT_EQ(values(dir / "out/store.h5", "second"), (std::vector<std::int64_t>{1, 2, 3}));

  auto forced = run_othrun("--force --set first.rows=2 " + exp);
  EXPECT_EQ(forced.err.find("up to date"), std::string::npos);
}

TEST(Cli, AFailingStepExitsOneAndKeepsFinishedSteps) {
  TempDir dir;
  write_file(dir / "e.yaml", kTwoSteps);
  auto run = run_othrun("--set second.fail_at=1 " + (dir / "e.yaml").string());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("step 'second' (test_counter) failed: failing at row 1"),
            std::string::npos)
      << run.err;
  Store store(dir / "out/store.h5");
  EXPECT_EQ(store.labels(), std::vector<std::string>{"first"});
  EXPECT_FALSE(fs::exists(store.product_dir() / "second.h5.partial"));
}

// Waits until `path` exists (up to 20 s).
bool wait_for(const fs::path& path) {
  for (int i = 0; i < 400; ++i) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(Cli, KilledWriterLeavesTheProductIncompleteAndARerunCompletesIt) {
  TempDir dir;
  write_file(dir / "e.yaml", kTwoSteps);
  const std::string exp = (dir / "e.yaml").string();
  const fs::path partial = dir / "out/store.d/second.h5.partial";
  const std::string start = std::string(OTHRUN_EXE) + " --plugin-path " + OTHRUN_TEST_PLUGIN_DIR +
                            " --set second.rows=1000 --set second.row_delay_ms=5 " + exp +
                            " >/dev/null 2>&1 & echo $!";
  auto launched = run_command(start);
  const int pid = std::stoi(launched.out);
  ASSERT_TRUE(wait_for(partial));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // mid-product
  run_command("kill -9 " + std::to_string(pid));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  {
    Store store(dir / "out/store.h5");
    EXPECT_EQ(store.labels(), std::vector<std::string>{"first"});
    EXPECT_FALSE(store.has("second"));
  }
  auto rerun = run_othrun("--set second.rows=1000 " + exp);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.err.find("step 'first' (test_counter): up to date, skipped"), std::string::npos);
  EXPECT_EQ(values(dir / "out/store.h5", "second").size(), 1000u);
  EXPECT_FALSE(fs::exists(partial));
}

TEST(Cli, CtrlCStopsCleanlyAndDiscardsTheStepInProgress) {
  TempDir dir;
  write_file(dir / "e.yaml", kTwoSteps);
  const fs::path partial = dir / "out/store.d/second.h5.partial";
  const std::string start = std::string(OTHRUN_EXE) + " --plugin-path " + OTHRUN_TEST_PLUGIN_DIR +
                            " --set second.rows=1000 --set second.row_delay_ms=5 " +
                            (dir / "e.yaml").string() + " >/dev/null 2>" + (dir / "err").string() +
                            " & echo $!";
  const int pid = std::stoi(run_command(start).out);
  ASSERT_TRUE(wait_for(partial));
  run_command("kill -INT " + std::to_string(pid));
  auto status = run_command("while kill -0 " + std::to_string(pid) +
                            " 2>/dev/null; do sleep 0.05; done; cat " + (dir / "err").string());
  EXPECT_NE(status.out.find("step 'second' (test_counter): interrupted; finished steps are kept"),
            std::string::npos)
      << status.out;
  Store store(dir / "out/store.h5");
  EXPECT_EQ(store.labels(), std::vector<std::string>{"first"});
  EXPECT_FALSE(fs::exists(partial));
}

TEST(Cli, H5pyReadsAProductAndItsProvenance) {
  if (run_command(std::string(OTHRUN_PYTHON3) + " -c 'import h5py'").exit_code != 0) {
    GTEST_SKIP() << OTHRUN_PYTHON3 << " has no h5py (scripts/setup.sh installs python3-h5py)";
  }
  TempDir dir;
  write_file(dir / "e.yaml", kTwoSteps);
  ASSERT_EQ(run_othrun((dir / "e.yaml").string()).exit_code, 0);
  write_file(dir / "read.py",
             "import h5py, sys\n"
             "f = h5py.File(sys.argv[1], 'r')\n"
             "print(sorted(f.keys()))\n"
             "print(f['second/values'][:].tolist())\n"
             "a = f['second'].attrs\n"
             "print(a['othrun.plugin'], a['othrun.plugin_version'], a['othrun.complete'])\n"
             "print([l for l in a['othrun.config'].splitlines() if l.startswith('rows:')][0])\n"
             "print(list(a['othrun.inputs'])[0].split(':')[0])\n");
  auto read = run_command(std::string(OTHRUN_PYTHON3) + " " + (dir / "read.py").string() + " " +
                          (dir / "out/store.h5").string());
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out, "['first', 'second']\n[6, 7, 8]\ntest_counter 0.1.0 1\nrows: 3\nfirst\n");
}

}  // namespace
}  // namespace othrun
