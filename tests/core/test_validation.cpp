// The exact message of each kind of experiment error, with its file and line.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/experiment.hpp"
#include "test_helpers.hpp"

namespace othrun {
namespace {

using testing::TempDir;
using testing::write_file;

class Validation : public ::testing::Test {
 protected:
  // Validates `yaml` (written to exp.yaml) and returns every message, or {} when valid.
  std::vector<std::string> problems(const std::string& yaml,
                                    const std::vector<std::string>& overrides = {}) {
    write_file(file(), yaml);
    PluginRegistry plugins({OTHRUN_TEST_PLUGIN_DIR, OTHRUN_PLUGIN_DIR});
    try {
      load_experiment(file(), overrides, plugins);
    } catch (const ValidationError& error) {
      return error.messages();
    }
    return {};
  }
  std::string file() const { return (dir_ / "exp.yaml").string(); }
  // "exp.yaml:LINE: " with the full path.
  std::string at(int line) const { return file() + ":" + std::to_string(line) + ": "; }

  TempDir dir_;
};

const char* kHeader = "name: t\nstore: out.h5\nseed: 1\nsteps:\n";

TEST_F(Validation, AcceptsAValidExperimentAndResolvesPaths) {
  write_file(file(), std::string(kHeader) +
                         "  - plugin: test_counter\n"
                         "    rows: 3\n"
                         "    notes: sub/notes.txt\n"
                         "  - plugin: test_counter\n"
                         "    label: second\n"
                         "    source: test_counter\n"
                         "    tags: [a, c]\n");
  PluginRegistry plugins({OTHRUN_TEST_PLUGIN_DIR});
  Experiment experiment = load_experiment(file(), {}, plugins);
  ASSERT_EQ(experiment.steps.size(), 2u);
  EXPECT_EQ(experiment.name, "t");
  EXPECT_EQ(experiment.seed, 1u);
  EXPECT_EQ(experiment.store, dir_.path() / "out.h5");
  EXPECT_EQ(experiment.steps[0].label, "test_counter");
  EXPECT_EQ(experiment.steps[0].line, 5);
  EXPECT_EQ(experiment.steps[0].config.get_int("rows"), 3);
  EXPECT_EQ(experiment.steps[0].config.get_float("scale"), 1.0);
  EXPECT_EQ(experiment.steps[0].config.get_path("notes"), dir_.path() / "sub/notes.txt");
  // An empty default path means "none"; it must not become the experiment's folder.
  EXPECT_EQ(experiment.steps[0].config.get_string("log"), "");
  EXPECT_FALSE(experiment.steps[0].config.has("source"));
  EXPECT_EQ(experiment.steps[1].config.get_string("source"), "test_counter");
  EXPECT_EQ(experiment.steps[1].config.get_strings("tags"), (std::vector<std::string>{"a", "c"}));
}

TEST_F(Validation, UnknownKeySuggestsTheNearest) {
  auto messages = problems(std::string(kHeader) + "  - plugin: test_counter\n    rowz: 3\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(6) +
                             "step 'test_counter' (test_counter): unknown key 'rowz'; did you mean "
                             "'rows'? (valid: plugin, label, rows, row_delay_ms, fail_at, scale, "
                             "mode, tags, notes, log, reads, source)");
}

TEST(Schema, RejectsParametersNamedLikeStepKeys) {
  // `label` and `plugin` belong to every step; a parameter of that name could never be set.
  Schema schema("x");
  EXPECT_THROW(schema.text("label", "a", "doc"), Error);
  EXPECT_THROW(schema.integer("plugin", 1, "doc"), Error);
  EXPECT_NO_THROW(schema.text("split_by", "a", "doc"));
}

TEST_F(Validation, AFileAStepReadsMustExist) {
  auto messages =
      problems(std::string(kHeader) + "  - plugin: test_counter\n    reads: missing.txt\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(6) + "step 'test_counter' (test_counter): 'reads': " +
                             (dir_.path() / "missing.txt").string() + " does not exist");

  write_file((dir_.path() / "present.txt").string(), "x");
  EXPECT_TRUE(problems(std::string(kHeader) + "  - plugin: test_counter\n    reads: present.txt\n")
                  .empty());
}

TEST_F(Validation, AFileAnEarlierStepWritesNeedNotExistYet) {
  // `log` of the first step (a path it is not declared to read) may be what the second reads;
  // so may anything in the store's product folder (out.d/ for out.h5).
  EXPECT_TRUE(problems(std::string(kHeader) +
                       "  - plugin: test_counter\n    log: made/by/first.txt\n"
                       "  - plugin: test_counter\n    label: second\n"
                       "    reads: made/by/first.txt\n"
                       "  - plugin: test_counter\n    label: third\n"
                       "    reads: out.d/first.checkpoints/step_1.pth\n")
                  .empty());
  // ... but not what a later step writes.
  auto messages = problems(std::string(kHeader) +
                           "  - plugin: test_counter\n    reads: later.txt\n"
                           "  - plugin: test_counter\n    label: second\n    log: later.txt\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(
      messages[0].find("'reads': " + (dir_.path() / "later.txt").string() + " does not exist"),
      std::string::npos);
}

TEST_F(Validation, UnknownTopLevelKey) {
  auto messages =
      problems("name: t\nstor: x.h5\nstore: out.h5\nsteps:\n  - plugin: test_counter\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(2) +
                             "unknown top-level key 'stor'; did you mean 'store'? (valid: "
                             "name, store, seed, steps)");
}

TEST_F(Validation, MissingRequiredKey) {
  auto messages = problems("name: t\nsteps:\n  - plugin: test_counter\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(1) + "missing required key 'store' (the HDF5 store to write)");
}

TEST_F(Validation, WrongType) {
  auto messages = problems(std::string(kHeader) +
                           "  - plugin: test_counter\n    rows: many\n"
                           "    tags: a\n");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], at(6) +
                             "step 'test_counter' (test_counter): 'rows' must be an integer, "
                             "got 'many'");
  EXPECT_EQ(messages[1], at(7) +
                             "step 'test_counter' (test_counter): 'tags' must be a list of "
                             "string, got 'a'");
}

TEST_F(Validation, OutOfRange) {
  auto messages = problems(std::string(kHeader) + "  - plugin: test_counter\n    scale: 150\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(6) +
                             "step 'test_counter' (test_counter): 'scale' = 150 is out of "
                             "range: it must be in [0, 100]");
}

TEST_F(Validation, NotAnAllowedValue) {
  auto messages = problems(std::string(kHeader) + "  - plugin: test_counter\n    mode: squard\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(6) +
                             "step 'test_counter' (test_counter): 'mode' = 'squard' is not "
                             "one of: plain, squared (did you mean 'squared'?)");
}

TEST_F(Validation, DuplicateLabel) {
  auto messages =
      problems(std::string(kHeader) + "  - plugin: test_counter\n  - plugin: test_counter\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(6) +
                             "step 'test_counter' (test_counter): duplicate label "
                             "'test_counter' (first used on line 5); give one of them a "
                             "distinct 'label'");
}

TEST_F(Validation, InputThatNoEarlierStepProvides) {
  auto messages = problems(std::string(kHeader) +
                           "  - plugin: test_counter\n    label: first\n"
                           "  - plugin: test_counter\n    label: second\n    source: later\n"
                           "  - plugin: test_counter\n    label: later\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(9) +
                             "step 'second' (test_counter): 'source' names 'later', which no "
                             "earlier step provides (that step runs later) (earlier steps "
                             "providing 'counter': first)");
}

TEST_F(Validation, InputOfTheWrongKind) {
  auto messages = problems(std::string(kHeader) +
                           "  - plugin: random_directions\n"
                           "  - plugin: test_counter\n    source: random_directions\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(7) +
                             "step 'test_counter' (test_counter): 'source' names "
                             "'random_directions', which provides directions, not 'counter'");
}

TEST_F(Validation, PluginValidateErrorPointsAtItsKey) {
  auto messages =
      problems(std::string(kHeader) + "  - plugin: test_counter\n    rows: 5\n    fail_at: 7\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(7) +
                             "step 'test_counter' (test_counter): 'fail_at': must be below "
                             "'rows' (5)");
}

TEST_F(Validation, UnknownPluginSuggestsTheNearest) {
  auto messages = problems(std::string(kHeader) + "  - plugin: test_countr\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].rfind(at(5) + "step 'test_countr' (test_countr): unknown plugin "
                                      "'test_countr'; did you mean test_counter? (known plugins: ",
                              0),
            0u)
      << messages[0];
}

TEST_F(Validation, YamlSyntaxError) {
  auto messages = problems("name: t\nstore: [unclosed\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].rfind(file() + ":3: YAML syntax error: ", 0), 0u) << messages[0];
}

TEST_F(Validation, ReportsEveryProblemAtOnce) {
  auto messages = problems(
      "name: t\nstore: o.h5\nsteps:\n  - plugin: test_counter\n    rows: -1\n"
      "    mode: x\n  - label: y\n");
  EXPECT_EQ(messages.size(), 3u);
}

TEST_F(Validation, SetOverridesAndItsErrors) {
  write_file(file(), std::string(kHeader) + "  - plugin: test_counter\n    rows: 3\n");
  PluginRegistry plugins({OTHRUN_TEST_PLUGIN_DIR});
  Experiment experiment = load_experiment(file(), {"test_counter.rows=9", "seed=42"}, plugins);
  EXPECT_EQ(experiment.steps[0].config.get_int("rows"), 9);
  EXPECT_EQ(experiment.seed, 42u);

  auto messages = problems(std::string(kHeader) + "  - plugin: test_counter\n",
                           {"test_counter.rows=x", "nope.rows=1", "seeds=1"});
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0],
            "--set seeds=1: unknown top-level key 'seeds'; did you mean 'seed'? "
            "(valid: name, store, seed, steps)");
  EXPECT_EQ(messages[1],
            "--set test_counter.rows=x: step 'test_counter' (test_counter): 'rows' "
            "must be an integer, got 'x'");
  EXPECT_EQ(messages[2], "--set nope.rows=1: no step is labelled 'nope' (labels: test_counter)");
}

// A plugin is named, never given as a path: `evil.so`'s constructor would run on dlopen.
TEST_F(Validation, PluginGivenAsAPathIsRefusedWithoutLoadingIt) {
  const std::string broken = OTHRUN_BROKEN_PLUGIN_DIR;
  const auto marker = dir_ / "marker";
  setenv("OTHRUN_TEST_MARKER", marker.c_str(), 1);
  for (const std::string& plugin :
       {broken + "/evil", std::string("../broken-plugins/evil"), std::string("../../x/evil")}) {
    auto messages = problems(std::string(kHeader) +
                             "  - plugin: test_counter\n  - plugin: " + plugin + "\n    rows: 1\n");
    ASSERT_EQ(messages.size(), 1u) << plugin;
    EXPECT_EQ(messages[0], at(6) + "step #2: '" + plugin +
                               "' is not a plugin name: a plugin is named by letters, digits and "
                               "'_' only, and is looked up as NAME.so in the plugin search path "
                               "(never a path)");
    EXPECT_FALSE(std::filesystem::exists(marker)) << plugin;
  }
  // The control: loading the library does run its constructor.
  void* handle = dlopen((broken + "/evil.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  dlclose(handle);
  unsetenv("OTHRUN_TEST_MARKER");
  EXPECT_TRUE(std::filesystem::exists(marker));
}

TEST_F(Validation, DuplicateKeyInAStep) {
  auto messages = problems(std::string(kHeader) +
                           "  - plugin: test_counter\n    rows: 3\n    scale: 2\n    rows: 4\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(8) + "duplicate key 'rows' (first given on line 6)");
}

TEST_F(Validation, DuplicateTopLevelKey) {
  auto messages = problems(
      "name: t\nstore: a.h5\nseed: 1\nstore: b.h5\nsteps:\n"
      "  - plugin: test_counter\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(4) + "duplicate key 'store' (first given on line 2)");
}

TEST_F(Validation, KeysMustBePlainNames) {
  auto messages =
      problems(std::string(kHeader) + "  - plugin: test_counter\n" + "{x: 1}: 2\n[a]: 3\n");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], at(6) + "a key must be a plain name, got a mapping");
  EXPECT_EQ(messages[1], at(7) + "a key must be a plain name, got a list");

  messages = problems(std::string(kHeader) + "  - plugin: test_counter\n    ? [r]\n    : 3\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(6) + "a key must be a plain name, got a list");
}

TEST_F(Validation, ASecondYamlDocumentIsRefused) {
  auto messages = problems(std::string(kHeader) + "  - plugin: test_counter\n---\nname: other\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(7) +
                             "a second YAML document: an experiment file holds exactly one "
                             "(remove the '---' separator and what follows it, or merge it into "
                             "the first)");
  // A leading '---' starts the one document: fine.
  EXPECT_EQ(problems("---\n" + std::string(kHeader) + "  - plugin: test_counter\n"),
            std::vector<std::string>{});
}

TEST_F(Validation, EmptyNameIsRefused) {
  auto messages = problems("name: ''\nstore: o.h5\nsteps:\n  - plugin: test_counter\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], at(1) + "'name' must not be empty (it titles the store and its report)");
  messages = problems("name: t\nstore: o.h5\nsteps:\n  - plugin: test_counter\n", {"name=' '"});
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0],
            "--set name=' ': 'name' must not be empty (it titles the store and its report)");
}

TEST_F(Validation, SetRefusesWhatCannotBeOverridden) {
  auto messages = problems(std::string(kHeader) + "  - plugin: test_counter\n",
                           {"steps=[]", "test_counter.label=x", "test_counter.plugin=games",
                            "seed=2", "seed=3", ".rows=1", "test_counter.=1"});
  ASSERT_EQ(messages.size(), 6u);
  EXPECT_EQ(messages[0], "--set seed=3: 'seed' is already set by --set seed=2");
  EXPECT_EQ(messages[1], "--set .rows=1: expected KEY=VALUE or LABEL.KEY=VALUE");
  EXPECT_EQ(messages[2], "--set test_counter.=1: expected KEY=VALUE or LABEL.KEY=VALUE");
  EXPECT_EQ(messages[3],
            "--set steps=[]: 'steps' cannot be set with --set: only name, store and seed can (a "
            "step's parameter is LABEL.KEY=VALUE)");
  EXPECT_EQ(messages[4],
            "--set test_counter.label=x: step 'test_counter' (test_counter): 'label' cannot be set "
            "with --set: a step's plugin and label are fixed by the experiment file (--set "
            "LABEL.KEY=VALUE sets one of its parameters)");
  EXPECT_EQ(messages[5].rfind("--set test_counter.plugin=games: step 'test_counter' "
                              "(test_counter): 'plugin' cannot be set with --set",
                              0),
            0u)
      << messages[5];
}

TEST_F(Validation, StrictnessErrorsExitWithCode2AndNameTheFile) {
  const std::vector<std::pair<std::string, int>> cases = {
      {std::string(kHeader) + "  - plugin: test_counter\n    rows: 1\n    rows: 2\n", 7},
      {"name: a\nname: b\nstore: o.h5\nsteps:\n  - plugin: test_counter\n", 2},
      {std::string(kHeader) + "  - plugin: test_counter\n{x: 1}: 2\n", 6},
      {std::string(kHeader) + "  - plugin: test_counter\n---\nname: b\n", 7},
      {"name: ''\nstore: o.h5\nsteps:\n  - plugin: test_counter\n", 1},
      {std::string(kHeader) + "  - plugin: /tmp/evil\n", 5},
  };
  for (const auto& [yaml, line] : cases) {
    write_file(file(), yaml);
    const auto result = testing::run_othrun("--check " + testing::shell_quote(file()));
    EXPECT_EQ(result.exit_code, 2) << yaml << result.err;
    EXPECT_EQ(result.err.rfind(at(line), 0), 0u) << yaml << result.err;
  }
  write_file(file(), std::string(kHeader) + "  - plugin: test_counter\n");
  const auto result = testing::run_othrun("--check --set steps=[] " + testing::shell_quote(file()));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.err.rfind("--set steps=[]: 'steps' cannot be set", 0), 0u) << result.err;
}

}  // namespace
}  // namespace othrun
