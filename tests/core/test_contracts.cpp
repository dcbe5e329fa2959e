// Product contracts at --check time: declared datasets, `input: LABEL:DATASET` references, the hook
// and position-range parameter types, and stored products of an earlier run. Uses the real plugins
// and the shipped 8-layer model (models/othello_gpt_default.pth, read for its shapes only).
#include <gtest/gtest.h>

#include <othrun/contract.hpp>
#include <othrun/hooks.hpp>
#include <othrun/store.hpp>

#include "config/experiment.hpp"
#include "config/stored_contract.hpp"
#include "test_helpers.hpp"

namespace othrun {
namespace {

using testing::TempDir;
using testing::write_file;

const std::string kModel = std::string(OTHRUN_SOURCE_DIR) + "/models/othello_gpt_default.pth";

class Contracts : public ::testing::Test {
 protected:
  // Validates `steps` (after a games step and an inference step `cache` caching `hooks`).
  std::vector<std::string> problems(const std::string& steps,
                                    const std::string& hooks = "[resid_pre.6, post.0]",
                                    const std::string& cache_extra = "") {
    write_file(file(), yaml(steps, hooks, cache_extra));
    try {
      experiment_ = load_experiment(file(), {}, plugins_);
    } catch (const ValidationError& error) {
      return error.messages();
    }
    return {};
  }
  std::string yaml(const std::string& steps, const std::string& hooks,
                   const std::string& cache_extra) const {
    return "name: t\nstore: out.h5\nseed: 1\nsteps:\n"
           "  - plugin: games\n"  // line 5
           "    games: 4\n"
           "  - plugin: inference\n"  // line 7
           "    label: cache\n"
           "    model: " +
           kModel +
           "\n"
           "    hooks: " +
           hooks + "\n" + cache_extra + steps;
  }
  std::string file() const { return (dir_ / "exp.yaml").string(); }
  std::string at(int line) const { return file() + ":" + std::to_string(line) + ": "; }

  TempDir dir_;
  PluginRegistry plugins_{{OTHRUN_PLUGIN_DIR}};
  Experiment experiment_;
};

TEST(HookNames, ShorthandAndFullNamesResolveInCore) {
  EXPECT_EQ(canonical_hook("post.0"), "blocks.0.mlp.hook_post");
  EXPECT_EQ(canonical_hook("resid_pre:6"), "blocks.6.hook_resid_pre");
  EXPECT_EQ(canonical_hook("blocks.6.hook_resid_pre"), "blocks.6.hook_resid_pre");
  EXPECT_EQ(resolve_hook("pre.7", 8), "blocks.7.mlp.hook_pre");
  EXPECT_FALSE(looks_like_hook("features"));
  EXPECT_TRUE(looks_like_hook("poost.3"));
  try {
    canonical_hook("blocks.99999999999999999999.hook_resid_pre");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "'blocks.99999999999999999999.hook_resid_pre': layer number "
                 "99999999999999999999 is far too large (a model has at most a few hundred "
                 "layers)");
  }
}

TEST(PositionRanges, OneSyntax) {
  EXPECT_EQ(parse_position_range("5:54"), (PositionRange{5, 54}));
  EXPECT_EQ(parse_position_range(":54"), (PositionRange{0, 54}));
  EXPECT_EQ(parse_position_range("5:"), (PositionRange{5, -1}));
  EXPECT_TRUE(parse_position_range("all").all());
  EXPECT_EQ(parse_position_range("0:").to_string(), "all");
  EXPECT_TRUE((PositionRange{5, 54}).within(PositionRange{0, -1}));
  EXPECT_FALSE((PositionRange{5, -1}).within(PositionRange{5, 54}));
  EXPECT_FALSE((PositionRange{4, 20}).within(PositionRange{5, 54}));
  EXPECT_THROW(parse_position_range("54:5"), Error);
  EXPECT_THROW(parse_position_range("5"), Error);
  EXPECT_THROW(parse_position_range("-1:5"), Error);
  EXPECT_THROW(parse_position_range("1:2:3"), Error);
}

TEST_F(Contracts, ReferencesResolveToFullHookNamesAndDeclaredDatasets) {
  const auto found = problems(
      "  - plugin: probe_projection\n"
      "    activations: cache:resid_pre.6\n"
      "    probe: " +
          std::string(OTHRUN_SOURCE_DIR) +
          "/models/linear_probe_l6.pth\n"
          "    accuracy_positions: \"5:54\"\n",
      "[resid_pre.6, post.0]", "    dtype: float16\n    positions: \"2:40\"\n");
  ASSERT_TRUE(found.empty()) << found.front();
  const PlannedStep& cache = experiment_.steps[1];
  // The inference step declares one dataset per hook (full names), plus its log-prob board.
  ASSERT_EQ(cache.datasets.size(), 4u);
  EXPECT_EQ(cache.datasets[0].name, "blocks.6.hook_resid_pre");
  EXPECT_EQ(cache.datasets[0].dtype, DType::Float16);
  EXPECT_EQ(cache.datasets[0].axes, "game,pos,d_model");
  EXPECT_EQ(cache.datasets[0].positions, (PositionRange{2, 40}));
  EXPECT_EQ(cache.datasets[1].name, "blocks.0.mlp.hook_post");
  EXPECT_EQ(cache.datasets[1].axes, "game,pos,d_mlp");
  EXPECT_EQ(cache.datasets[2].name, "logprob_board/log_probs");
  const Config& probe = experiment_.steps[2].config;
  EXPECT_EQ(probe.get_string("activations"), "cache:blocks.6.hook_resid_pre");
  EXPECT_EQ(probe.input_label("activations"), "cache");
  EXPECT_EQ(probe.input_dataset("activations"), "blocks.6.hook_resid_pre");
  EXPECT_EQ(probe.get_string("accuracy_positions"), "5:54");
}

// Every wrong reference of an experiment is reported in one round, each at its line, each naming
// what the product does provide.
TEST_F(Contracts, EveryWrongReferenceIsListedAtOnce) {
  const auto found = problems(
      "  - plugin: max_activation\n"  // line 11
      "    label: hook_not_cached\n"
      "    activations: cache:blocks.0.mlp.hook_pre\n"  // 13
      "  - plugin: neuron_spectrum\n"
      "    label: huge_layer\n"
      "    activations: cache:blocks.99999999999999999999.hook_resid_pre\n"  // 16
      "  - plugin: sae_encode\n"
      "    label: no_hook\n"
      "    activations: cache\n"  // 19
      "    sae: " +
      std::string(OTHRUN_SOURCE_DIR) +
      "/models/sae_l6_resid_pre_128\n"
      "  - plugin: max_activation\n"  // 21
      "    label: old_hook_key\n"
      "    activations: cache\n"            // 23
      "    hook: blocks.0.mlp.hook_post\n"  // 24
      "  - plugin: train_probe\n"
      "    label: list_positions\n"
      "    activations: cache:resid_pre.6\n"
      "    positions: [5, 54]\n"  // 28
      "  - plugin: max_activation\n"
      "    label: not_a_hook\n"
      "    activations: games:tokens\n");  // 31
  const std::string hooks =
      "'cache' provides cached hooks: blocks.6.hook_resid_pre, "
      "blocks.0.mlp.hook_post";
  const std::vector<std::string> expected = {
      at(13) +
          "step 'hook_not_cached' (max_activation): 'activations' names "
          "'cache:blocks.0.mlp.hook_pre', but 'cache' will hold no dataset "
          "'blocks.0.mlp.hook_pre'; did you mean 'blocks.0.mlp.hook_post'? (" +
          hooks + ")",
      at(16) +
          "step 'huge_layer' (neuron_spectrum): 'activations': "
          "'blocks.99999999999999999999.hook_resid_pre': layer number 99999999999999999999 "
          "is far too large (a model has at most a few hundred layers)",
      at(19) +
          "step 'no_hook' (sae_encode): 'activations' names product 'cache' but not which "
          "of its cached hooks: write cache:NAME (" +
          hooks + ")",
      at(24) +
          "step 'old_hook_key' (max_activation): 'hook' is no longer a parameter: name the "
          "hook in the input: activations: LABEL:HOOK, e.g. activations: "
          "cache:blocks.0.mlp.hook_post",
      at(23) +
          "step 'old_hook_key' (max_activation): 'activations' names product 'cache' but "
          "not which of its cached hooks: write cache:NAME (" +
          hooks + ")",
      at(28) +
          "step 'list_positions' (train_probe): 'positions': position ranges are written "
          "as one Python slice \"first:stop\", stop excluded, or \"all\"; lists such as "
          "[first, stop] or [first, last] are no longer accepted (write \"5:54\" if 54 is "
          "excluded)",
      at(31) +
          "step 'not_a_hook' (max_activation): 'activations' names 'games', which provides "
          "games, not 'activations'",
  };
  EXPECT_EQ(found, expected);
  // The same through the command line: every problem printed, nothing run.
  const auto check = testing::run_command(std::string(OTHRUN_EXE) + " --plugin-path " +
                                          testing::shell_quote(OTHRUN_PLUGIN_DIR) + " --check " +
                                          testing::shell_quote(file()));
  EXPECT_EQ(check.exit_code, 2);
  for (const auto& message : expected) {
    EXPECT_NE(check.err.find(message), std::string::npos) << message << "\n" << check.err;
  }
  EXPECT_NE(check.err.find("othrun: 7 problems in "), std::string::npos) << check.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.h5"));
}

TEST_F(Contracts, InferenceHooksAreCheckedAgainstTheModelFile) {
  const auto found = problems("", "[resid_pre.6, resid_pre.9]");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], at(10) +
                          "step 'cache' (inference): 'hooks': hook 'blocks.9.hook_resid_pre': "
                          "layer 9 does not exist (the model has 8 layers) in "
                          "othello_gpt_default.pth");
}

TEST_F(Contracts, APositionRangeMustLieWithinTheCachedOne) {
  const auto found = problems(
      "  - plugin: train_probe\n"
      "    activations: cache:resid_pre.6\n"
      "    positions: \"5:54\"\n",  // line 14
      "[resid_pre.6]", "    positions: \"10:40\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], at(14) +
                          "step 'train_probe' (train_probe): 'positions': positions 5:54 "
                          "are not all in 'cache:blocks.6.hook_resid_pre', which holds "
                          "positions 10:40");
}

// A product of an earlier run, not planned in this experiment, resolves from its file.
TEST_F(Contracts, AStoredProductResolvesFromItsFile) {
  {
    Store store(dir_ / "out.h5");
    Provenance provenance;
    provenance.plugin = "inference";
    provenance.kinds = {"activations"};
    Product product = store.begin("old_cache", provenance);
    Dataset d = product.root().create_dataset<float>("blocks.3.hook_resid_post", {2, 59, 4});
    d.attrs().set("hook", "blocks.3.hook_resid_post");
    d.attrs().set("positions_start", std::int64_t{0});
    d.attrs().set("positions_stop", std::int64_t{59});
    store.commit(std::move(product));
  }
  const auto stored = stored_datasets(dir_ / "out.h5", "old_cache");
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].hook, "blocks.3.hook_resid_post");
  EXPECT_EQ((*stored)[0].positions, (PositionRange{0, 59}));

  const auto found = problems(
      "  - plugin: max_activation\n"
      "    label: good\n"
      "    activations: old_cache:resid_post.3\n"
      "  - plugin: max_activation\n"
      "    label: bad\n"
      "    activations: old_cache:resid_post.2\n");  // line 16
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], at(16) +
                          "step 'bad' (max_activation): 'activations' names "
                          "'old_cache:blocks.2.hook_resid_post', but 'old_cache' will hold "
                          "no dataset 'blocks.2.hook_resid_post'; did you mean "
                          "'blocks.3.hook_resid_post'? ('old_cache' provides cached hooks: "
                          "blocks.3.hook_resid_post)");
}

// docs/plugins.md's worked example end to end: the example plugin reads a cached hook's width.
TEST_F(Contracts, TheExamplePluginReadsACachedHook) {
  write_file(file(), yaml("    board_moves: 0\n"
                          "  - plugin: random_directions\n"
                          "    activations: cache:resid_pre.6\n"
                          "    count: 3\n",
                          "[resid_pre.6]", ""));
  const auto run = testing::run_command(std::string(OTHRUN_EXE) + " --plugin-path " +
                                        testing::shell_quote(OTHRUN_PLUGIN_DIR) + " " +
                                        testing::shell_quote(file()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Store store(dir_ / "out.h5");
  const Product directions = store.open("random_directions");
  // The shipped model is 128 wide: dim comes from the hook, not from `dim` (default 512).
  EXPECT_EQ(directions.root().dataset("directions").shape(), (std::vector<std::uint64_t>{3, 128}));
}

// After a step ran, the host checks its product holds what its plugin declared.
TEST(CheckWritten, NamesMissingAndMistypedDatasets) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("x", Provenance{});
  product.root().create_dataset<float>("a", {2});
  product.root().create_dataset<std::int64_t>("b", {2});
  const DatasetDecls decls = {{"a", DType::Float32, "i", "", "", {}},
                              {"b", DType::Float32, "i", "", "", {}},
                              {"g/c", DType::Int8, "i", "", "", {}}};
  try {
    check_written(product, decls);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "the product does not hold what its plugin declares (a plugin bug): 'b' is "
                 "int64, declared float32; 'g/c' is missing");
  }
  EXPECT_NO_THROW(check_written(product, {decls[0]}));
  store.discard(std::move(product));
}

// `othrun --describe` shows a plugin's declared datasets and its retired parameters.
TEST(Describe, ShowsDeclaredDatasetsAndRetiredKeys) {
  const auto games =
      testing::run_command(std::string(OTHRUN_EXE) + " --plugin-path " +
                           testing::shell_quote(OTHRUN_PLUGIN_DIR) + " --describe games");
  ASSERT_EQ(games.exit_code, 0) << games.err;
  EXPECT_NE(games.out.find("datasets (the exact list depends on the config):\n"
                           "  tokens                     int8     [game,ply]"),
            std::string::npos)
      << games.out;
  const auto spectrum =
      testing::run_command(std::string(OTHRUN_EXE) + " --plugin-path " +
                           testing::shell_quote(OTHRUN_PLUGIN_DIR) + " --describe neuron_spectrum");
  ASSERT_EQ(spectrum.exit_code, 0) << spectrum.err;
  EXPECT_NE(spectrum.out.find("  hook                 (retired)       name the hook in the input"),
            std::string::npos)
      << spectrum.out;
  EXPECT_NE(spectrum.out.find("  summary                    float64  [label,statistic]"),
            std::string::npos)
      << spectrum.out;
}

}  // namespace
}  // namespace othrun
