// What reruns and what does not: content fingerprints of input files, plugin build ids, upstream
// parameters; a failing step stopping only its dependents; `othrun --status`; the report's stale
// marks; `--check` reporting schema and validate() errors in one round.
#include <gtest/gtest.h>

#include <othrun/store.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>

#include "runtime/build_id.hpp"
#include "runtime/content_hash.hpp"
#include "test_helpers.hpp"

namespace othrun {
namespace {

using testing::read_text;
using testing::run_command;
using testing::run_othrun;
using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

// What the run log says step `label` did: "running", "up to date" or "not run".
std::string fate(const std::string& log, const std::string& label) {
  const std::string prefix = "step '" + label + "' (";
  for (size_t at = log.find(prefix); at != std::string::npos; at = log.find(prefix, at + 1)) {
    const std::string line = log.substr(at, log.find('\n', at) - at);
    if (line.find("): running") != std::string::npos) return "running";
    if (line.find("): up to date, skipped") != std::string::npos) return "up to date";
    if (line.find("): not run") != std::string::npos) return "not run";
  }
  return "(nothing)";
}

// The summary line of step `label` (the table printed at the end of a run), spaces collapsed.
std::string summary_line(const std::string& log, const std::string& label) {
  const std::regex line("(^|\\n)[^\\n]*\\] " + label + " +test_counter +([^\\n]*)");
  std::smatch match;
  if (!std::regex_search(log, match, line)) return "(no line)";
  std::string text = std::regex_replace(match[2].str(), std::regex(" +"), " ");
  return text;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string status_line(const std::string& out, const std::string& label) {
  const std::string text = "\n" + out;
  auto at = text.find("\n" + label + " ");
  if (at == std::string::npos) return "(no line)";
  return std::regex_replace(text.substr(at + 1, text.find('\n', at + 1) - at - 1), std::regex(" +"),
                            " ");
}

TEST(ContentHash, Sha256MatchesFipsVectorsAndSha256sum) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A file over one read chunk (1 MiB) with an odd tail, against coreutils.
  TempDir dir;
  std::string bytes;
  for (std::uint32_t i = 0; i < (1u << 20) + 12345; ++i) bytes += static_cast<char>(i * 7919 % 251);
  write_bytes(dir / "data.bin", bytes);
  const auto sum = run_command("sha256sum " + (dir / "data.bin").string());
  ASSERT_EQ(sum.exit_code, 0);
  EXPECT_EQ(sha256_file(dir / "data.bin"), sum.out.substr(0, 64));
}

const char* kReads =
    "name: reruns\n"
    "store: out/store.h5\n"
    "steps:\n"
    "  - plugin: test_counter\n"
    "    label: a\n"
    "    rows: 3\n"
    "    reads: model.bin\n"
    "  - plugin: test_counter\n"
    "    label: b\n"
    "    rows: 2\n"
    "    source: a\n"
    "  - plugin: test_counter\n"
    "    label: c\n"
    "    rows: 2\n";

TEST(Reruns, ChangedBytesOfAReadFileRerunItsStepAndItsConsumerOnly) {
  TempDir dir;
  write_file(dir / "e.yaml", kReads);
  const fs::path model = dir / "model.bin";
  write_bytes(model, "weights-v1");
  const std::string exp = (dir / "e.yaml").string();
  auto first = run_othrun(exp);
  ASSERT_EQ(first.exit_code, 0) << first.err;

  // The content hash is in the provenance, as sha256sum computes it.
  {
    Store store(dir / "out/store.h5");
    const auto files = store.open("a").root().attrs().get_strings("othrun.input_files");
    ASSERT_EQ(files.size(), 1u);
    const auto sum = run_command("sha256sum " + model.string());
    EXPECT_EQ(files[0].substr(0, 64), sum.out.substr(0, 64));
    EXPECT_NE(files[0].find(std::string(" ").append(model.string())), std::string::npos)
        << files[0];
  }

  // Touched, same bytes: nothing reruns.
  const auto old_time = fs::last_write_time(model);
  fs::last_write_time(model, old_time + std::chrono::seconds(5));
  auto touched = run_othrun(exp);
  ASSERT_EQ(touched.exit_code, 0) << touched.err;
  for (const char* label : {"a", "b", "c"}) EXPECT_EQ(fate(touched.err, label), "up to date");

  // New bytes of the same size, with the old mtime put back: a and its consumer b rerun.
  write_bytes(model, "weights-v2");
  fs::last_write_time(model, old_time);
  auto changed = run_othrun(exp);
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(fate(changed.err, "a"), "running");
  EXPECT_EQ(fate(changed.err, "b"), "running");
  EXPECT_EQ(fate(changed.err, "c"), "up to date");

  auto again = run_othrun(exp);
  for (const char* label : {"a", "b", "c"}) EXPECT_EQ(fate(again.err, label), "up to date");
}

TEST(Reruns, AnUpstreamParameterRerunsExactlyTheStepsDownstream) {
  TempDir dir;
  write_file(dir / "e.yaml", kReads);
  write_bytes(dir / "model.bin", "weights");
  const std::string exp = (dir / "e.yaml").string();
  ASSERT_EQ(run_othrun(exp).exit_code, 0);
  auto changed = run_othrun("--set a.rows=4 " + exp);
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(fate(changed.err, "a"), "running");
  EXPECT_EQ(fate(changed.err, "b"), "running");
  EXPECT_EQ(fate(changed.err, "c"), "up to date");
}

// Replaces the GNU build id inside a copy of a plugin library, as a rebuild with changed code
// would; the library still loads (the loader does not read the note).
void change_build_id(const fs::path& library) {
  const auto id = elf_build_id(library);
  ASSERT_TRUE(id.has_value()) << library << " has no GNU build id";
  std::string raw;
  for (size_t i = 0; i < id->size(); i += 2)
    raw += static_cast<char>(std::stoi(id->substr(i, 2), nullptr, 16));
  std::string bytes = read_text(library);
  const auto at = bytes.find(raw);
  ASSERT_NE(at, std::string::npos);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
  write_bytes(library, bytes);
  ASSERT_NE(elf_build_id(library), id);
}

TEST(Reruns, ARebuiltPluginRerunsItsStepsAndNoOthers) {
  TempDir dir;
  const fs::path plugins = dir / "plugins";
  fs::create_directories(plugins);
  fs::copy_file(fs::path(OTHRUN_TEST_PLUGIN_DIR) / "test_counter.so", plugins / "test_counter.so");
  write_file(dir / "e.yaml",
             "name: rebuilt\nstore: out/store.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: a\n    rows: 2\n"
             "  - plugin: random_directions\n    label: r\n    count: 3\n    dim: 4\n"
             "  - plugin: test_counter\n    label: b\n    source: a\n");
  const std::string othrun = std::string(OTHRUN_EXE) + " --plugin-path " + plugins.string() +
                             " --plugin-path " + OTHRUN_PLUGIN_DIR + " " +
                             (dir / "e.yaml").string();
  auto first = run_command(othrun);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  {
    Store store(dir / "out/store.h5");
    EXPECT_EQ(store.open("a").root().attrs().get_string("othrun.plugin_build"),
              "gnu-build-id:" + *elf_build_id(plugins / "test_counter.so"));
  }
  auto same = run_command(othrun);
  for (const char* label : {"a", "r", "b"}) EXPECT_EQ(fate(same.err, label), "up to date");

  change_build_id(plugins / "test_counter.so");
  auto rebuilt = run_command(othrun);
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_EQ(fate(rebuilt.err, "a"), "running");
  EXPECT_EQ(fate(rebuilt.err, "r"), "up to date");
  EXPECT_EQ(fate(rebuilt.err, "b"), "running");
}

TEST(Reruns, AFailingStepStopsOnlyTheStepsThatDependOnIt) {
  TempDir dir;
  write_file(dir / "e.yaml",
             "name: failing\nstore: out/store.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: a\n    rows: 3\n    fail_at: 1\n"
             "  - plugin: test_counter\n    label: b\n    source: a\n"
             "  - plugin: test_counter\n    label: c\n    source: b\n"
             "  - plugin: test_counter\n    label: d\n    rows: 2\n"
             // e writes a file (its non-existing path), f reads it: a dependency through a file.
             "  - plugin: test_counter\n    label: e\n    rows: 2\n    fail_at: 0\n"
             "    log: shared.txt\n"
             "  - plugin: test_counter\n    label: f\n    reads: shared.txt\n"
             "  - plugin: test_counter\n    label: g\n    source: d\n");
  auto run = run_othrun((dir / "e.yaml").string());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(summary_line(run.err, "a").substr(0, 6), "FAILED");
  EXPECT_EQ(summary_line(run.err, "b"), "not run (depends on a) 0.00");
  EXPECT_EQ(summary_line(run.err, "c"), "not run (depends on a) 0.00");
  EXPECT_EQ(summary_line(run.err, "d").substr(0, 4), "ran ");
  EXPECT_EQ(summary_line(run.err, "e").substr(0, 6), "FAILED");
  EXPECT_EQ(summary_line(run.err, "f"), "not run (depends on e) 0.00");
  EXPECT_EQ(summary_line(run.err, "g").substr(0, 4), "ran ");
  EXPECT_NE(run.err.find("step 'b' (test_counter): not run: it depends on a, which failed"),
            std::string::npos)
      << run.err;
  Store store(dir / "out/store.h5");
  EXPECT_EQ(store.labels(), (std::vector<std::string>{"d", "g"}));
}

TEST(Reruns, CtrlCStillStopsEveryStepAndExits130) {
  TempDir dir;
  write_file(dir / "e.yaml",
             "name: stop\nstore: out/store.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: slow\n    rows: 1000\n    row_delay_ms: 5\n"
             "  - plugin: test_counter\n    label: later\n    rows: 2\n");
  const fs::path partial = dir / "out/store.d/slow.h5.partial";
  // One shell: start, wait for the step to begin, interrupt it, collect its exit code.
  const std::string script = std::string(OTHRUN_EXE) + " --plugin-path " + OTHRUN_TEST_PLUGIN_DIR +
                             " " + (dir / "e.yaml").string() + " 2>" + (dir / "err").string() +
                             " & pid=$!; " + "for i in $(seq 400); do [ -e " + partial.string() +
                             " ] && break; sleep 0.05; done; kill -INT $pid; wait $pid; echo $?";
  auto result = run_command("sh -c " + testing::shell_quote(script));
  EXPECT_EQ(result.out, "130\n");
  const std::string err = read_text(dir / "err");
  EXPECT_EQ(summary_line(err, "later"), "not run (interrupted) 0.00") << err;
  EXPECT_FALSE(Store(dir / "out/store.h5").has("later"));
}

TEST(Status, ShowsCompleteStaleFailedAndMissingProductsWithTheirInputs) {
  TempDir dir;
  const std::string store = (dir / "out/store.h5").string();
  write_file(dir / "full.yaml",
             "name: s\nstore: out/store.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: a\n    rows: 3\n"
             "  - plugin: test_counter\n    label: b\n    source: a\n"
             "  - plugin: test_counter\n    label: c\n    source: b\n");
  ASSERT_EQ(run_othrun((dir / "full.yaml").string()).exit_code, 0);
  auto fresh = run_othrun("--status " + store);
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err;
  EXPECT_EQ(status_line(fresh.out, "a"), "a complete inputs: -");
  EXPECT_EQ(status_line(fresh.out, "b"), "b complete inputs: a");
  EXPECT_EQ(status_line(fresh.out, "c"), "c complete inputs: b");

  // Another experiment on the same store reruns only a: b and c are now built on an old a.
  write_file(dir / "only_a.yaml",
             "name: s\nstore: out/store.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: a\n    rows: 2\n");
  ASSERT_EQ(run_othrun((dir / "only_a.yaml").string()).exit_code, 0);
  auto stale = run_othrun("--status " + store);
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_EQ(status_line(stale.out, "a"), "a complete inputs: -");
  EXPECT_EQ(status_line(stale.out, "b"), "b stale inputs: a (input 'a' was rerun since)");
  EXPECT_EQ(status_line(stale.out, "c"), "c stale inputs: b (input 'b' is stale)");
  // The report marks them too.
  const std::string html = read_text(dir / "out/store.report.html");
  EXPECT_NE(html.find("STALE &mdash; input &#39;a&#39; was rerun since"), std::string::npos)
      << html.substr(0, 2000);
  // b and c, not a, are marked: their sections and their rows in the contents.
  for (const std::string mark : {"data-status=\"stale\"", "class=\"status status-stale\""}) {
    size_t marks = 0;
    for (auto at = html.find(mark); at != std::string::npos; at = html.find(mark, at + 1)) ++marks;
    EXPECT_EQ(marks, mark[0] == 'd' ? 2u : 4u) << mark;
  }

  // b fails: its older product is kept and marked; d, which reads it, is missing.
  write_file(dir / "fail_b.yaml",
             "name: s\nstore: out/store.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: a\n    rows: 2\n"
             "  - plugin: test_counter\n    label: b\n    source: a\n    fail_at: 0\n"
             "  - plugin: test_counter\n    label: d\n    source: b\n");
  ASSERT_EQ(run_othrun((dir / "fail_b.yaml").string()).exit_code, 1);
  auto failed = run_othrun("--status " + store);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(status_line(failed.out, "b"),
            "b failed inputs: a (failed in the last run: failing at row 0 (an older product is "
            "kept))");
  EXPECT_EQ(status_line(failed.out, "d"),
            "d missing inputs: - (not run in the last run (depends on b))");
  EXPECT_EQ(status_line(failed.out, "c"), "c stale inputs: b (input 'b' is failed)");

  auto none = run_othrun("--status " + (dir / "nothing.h5").string());
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no store"), std::string::npos);
}

TEST(Check, ReportsSchemaAndValidateErrorsInOneRound) {
  TempDir dir;
  // Step one: a range error (schema) and a cross-parameter error (validate) in the same step.
  // Step two: an unknown plugin; step three reads it and has its own validate() error.
  write_file(dir / "e.yaml",
             "name: x\nstore: s.h5\nsteps:\n"
             "  - plugin: test_counter\n    label: one\n    scale: 1000\n    rows: 4\n"
             "    fail_at: 9\n"
             "  - plugin: test_countr\n    label: two\n"
             "  - plugin: test_counter\n    label: three\n    source: two\n    rows: 2\n"
             "    fail_at: 5\n");
  auto check = run_othrun("--check " + (dir / "e.yaml").string());
  EXPECT_EQ(check.exit_code, 2);
  const std::string file = (dir / "e.yaml").string();
  for (const std::string& expected : {
           file + ":6: step 'one' (test_counter): 'scale'",
           file + ":8: step 'one' (test_counter): 'fail_at': must be below 'rows' (4)",
           file + ":9: step 'two' (test_countr): unknown plugin 'test_countr'",
           file + ":13: step 'three' (test_counter): 'source' names 'two'",
           file + ":15: step 'three' (test_counter): 'fail_at': must be below 'rows' (2)",
       }) {
    EXPECT_NE(check.err.find(expected), std::string::npos) << expected << "\n" << check.err;
  }
  EXPECT_NE(check.err.find("5 problems in"), std::string::npos) << check.err;
}

}  // namespace
}  // namespace othrun
