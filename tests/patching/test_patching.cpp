// activation_patching end to end: `othrun` builds twins from a games product and patches the small
// random reference model (tests/python/reference_gpt.py); the store must hold what an independent
// float64 Python run_with_hooks computes, satisfy the invariants causality implies, and the twins
// must be what the Othello engine says.
#include <gtest/gtest.h>

#include <othrun/games.hpp>
#include <othrun/othello.hpp>
#include <othrun/pth.hpp>
#include <othrun/report.hpp>
#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>

#include "pairs.hpp"
#include "reference.hpp"

namespace othrun::patching {
namespace {

constexpr int kTwins = 5;

std::string experiment(const std::filesystem::path& model, const std::string& extra = "") {
  return fmt::format(
      "name: patching\nstore: out.h5\nseed: 11\nsteps:\n"
      "  - plugin: games\n    games: 60\n"
      "  - plugin: activation_patching\n    label: twins\n    model: {0}\n    pairs: {1}\n"
      "    corrupt_plies: \"25:45\"\n"
      "    patch: [resid_pre, resid_mid, resid_post, attn_out, mlp_out, head_out]\n"
      "    batch_rows: 7\n    pairs_per_chunk: 2\n"
      "  - plugin: activation_patching\n    label: chosen\n    model: {0}\n"
      "    corruption: pairs\n    clean_games: [0, 1, 2]\n    corrupted_games: [3, 4, 5]\n"
      "    metric: legal_logprob\n    metric_position: 40\n    patch: [resid_pre, head_out]\n"
      "    skip_unpatched_layers: false\n    batch_rows: 50\n{2}",
      model.string(), kTwins, extra);
}

test::CommandOutput run_othrun(const std::filesystem::path& dir, const std::string& yaml,
                               const std::string& flags = "") {
  std::ofstream(dir / "x.yaml") << yaml;
  return test::run_command(fmt::format("{} --plugin-path {} --threads 2 {} {}", OTHRUN_EXE,
                                       OTHRUN_PLUGIN_DIR, flags, (dir / "x.yaml").string()));
}

// One run of the experiment per test process: the sweep is the slow part.
struct Fixture {
  test::ScratchDir dir;
  std::string skip, output;
  int exit_code = -1;
};
Fixture& fixture() {
  static Fixture f;
  static const bool ran = [] {
    const test::ReferenceFiles& ref = test::reference("small", 4);
    if (!ref.skip_reason.empty()) {
      f.skip = ref.skip_reason;
      return true;
    }
    const auto r = run_othrun(f.dir.path(), experiment(ref / "tl.pth"));
    f.exit_code = r.exit_code;
    f.output = r.output;
    return true;
  }();
  (void)ran;
  return f;
}

#define REQUIRE_FIXTURE()                        \
  Fixture& fx = fixture();                       \
  if (!fx.skip.empty()) GTEST_SKIP() << fx.skip; \
  ASSERT_EQ(fx.exit_code, 0) << fx.output;       \
  Store store(fx.dir.path() / "out.h5")

template <class T>
std::vector<T> read(const Product& p, const std::string& name) {
  return p.root().dataset(name).read_all<T>();
}

TEST(ActivationPatching, MatchesFloat64PythonReference) {
  REQUIRE_FIXTURE();
  const test::ReferenceFiles& ref = test::reference("small", 4);
  // The reference runs the model in float64 from the embedding with a hook replacing the one
  // activation (TransformerLens' run_with_hooks); othrun runs float32, batched, from the patched
  // layer, and head_out replaces z with the corrupted run's except the patched head (the same
  // values up to rounding). S = the largest |logit| at the metric positions. A float32 forward of
  // this 2-layer model puts each logit within a few float32 roundings of its float64 value, about
  // 1e-7 S (the inference tests allow 1e-5 relative per hook and see far less); a metric is the
  // difference of two logits or a mean of log-probs, so its error is a few 1e-7 S. Asserted:
  // 1e-5 S for every stored value, baseline and normalised score (the score's error times |mean
  // clean - mean corrupted|); measured 3.6e-7 S. A wrong position, head or layer gives O(S) (a
  // head off by one: 0.88 S).
  const auto check = test::run_command(fmt::format(
      "{} {}/tests/python/reference_patching.py {} {} 1 twins chosen", OTHRUN_PYTHON3,
      OTHRUN_SOURCE_DIR, (fx.dir.path() / "out.h5").string(), (ref / "tl.pth").string()));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("OK: largest error"), std::string::npos) << check.output;
  std::cout << check.output;
}

TEST(ActivationPatching, CausalInvariantsHold) {
  REQUIRE_FIXTURE();
  const Product twins = store.open("twins");
  const auto clean = read<double>(twins, "baseline/clean");
  const auto corrupted = read<double>(twins, "baseline/corrupted");
  const auto changed = read<std::int8_t>(twins, "pairs/changed_ply");
  const auto last = read<std::int8_t>(twins, "pairs/metric_position");
  const auto layers = read<std::int64_t>(twins, "layers");
  const auto n_pos = static_cast<std::int64_t>(twins.root().attrs().get_int("n_positions"));
  ASSERT_EQ(clean.size(), static_cast<std::size_t>(kTwins));
  ASSERT_EQ(layers, (std::vector<std::int64_t>{0, 1}));
  double scale = 1;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    scale = std::max({scale, std::abs(clean[i]), std::abs(corrupted[i])});
    // Test data: the pairs must differ, or "restores the clean metric" could not fail.
    ASSERT_GT(std::abs(clean[i] - corrupted[i]), 1e-3) << "pair " << i;
  }
  // The same computation in other batch shapes: BLAS may round differently (last bits of float32
  // logits of size <= scale), hence 1e-5 of the scale; a wrong cell differs by O(1).
  const double tol = 1e-5 * scale;
  auto cell = [&](const std::vector<double>& v, std::size_t pair, std::size_t layer,
                  std::int64_t pos) {
    return v[(pair * layers.size() + layer) * static_cast<std::size_t>(n_pos) +
             static_cast<std::size_t>(pos)];
  };
  for (const std::string kind : {"resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"}) {
    const auto patched = read<double>(twins, kind + "/patched");
    ASSERT_EQ(patched.size(), clean.size() * layers.size() * static_cast<std::size_t>(n_pos));
    for (std::size_t i = 0; i < clean.size(); ++i) {
      for (std::size_t l = 0; l < layers.size(); ++l) {
        for (std::int64_t p = 0; p < n_pos; ++p) {
          // Before the changed move both games are the same: nothing to patch. After the metric
          // position causal attention keeps the patch from reaching the metric.
          if (p < changed[i] || p > last[i]) {
            EXPECT_NEAR(cell(patched, i, l, p), corrupted[i], tol) << kind << " " << i << " " << p;
          }
        }
      }
    }
    if (kind == "resid_pre") {
      // At layer 0 the streams differ only at the changed move: patching it restores the clean
      // residual stream entirely, hence the clean metric.
      int spread = 0;
      for (std::size_t i = 0; i < clean.size(); ++i) {
        EXPECT_NEAR(cell(patched, i, 0, changed[i]), clean[i], tol) << i;
        spread +=
            last[i] > changed[i] && std::abs(cell(patched, i, 1, changed[i]) - clean[i]) > 1e-3;
      }
      // Test data: at layer 1 the change has spread to later positions, so the same patch no
      // longer restores everything (else the check above could not tell layers apart).
      EXPECT_GT(spread, 0);
    }
    if (kind == "resid_post") {
      // The last layer's output at the metric position is all the unembedding reads there.
      for (std::size_t i = 0; i < clean.size(); ++i) {
        EXPECT_NEAR(cell(patched, i, layers.size() - 1, last[i]), clean[i], tol) << i;
      }
    }
  }
  const auto score = read<double>(twins, "resid_post/score");
  EXPECT_EQ(score.size(), layers.size() * static_cast<std::size_t>(n_pos));
  EXPECT_EQ(twins.root().attrs().get_string("metric"), "logit_diff");
}

TEST(ActivationPatching, TwinsAreLegalGamesThatDifferInOneMove) {
  REQUIRE_FIXTURE();
  const Product twins = store.open("twins");
  const Product games_product = store.open("games");
  const games::GamesReader games(games_product);
  const auto game = read<std::int64_t>(twins, "pairs/clean_game");
  const auto changed = read<std::int8_t>(twins, "pairs/changed_ply");
  const auto last = read<std::int8_t>(twins, "pairs/metric_position");
  const auto answers = read<std::int8_t>(twins, "pairs/answer_squares");
  const auto clean_valid = read<std::uint64_t>(twins, "pairs/clean_valid");
  const auto corrupted_valid = read<std::uint64_t>(twins, "pairs/corrupted_valid");
  const auto clean_tokens = read<std::int8_t>(twins, "pairs/clean_tokens");
  const auto corrupted_tokens = read<std::int8_t>(twins, "pairs/corrupted_tokens");
  const auto n_pos = static_cast<std::size_t>(twins.root().attrs().get_int("n_positions"));
  for (std::size_t i = 0; i < game.size(); ++i) {
    EXPECT_GE(changed[i], 25);
    EXPECT_LT(changed[i], 45);
    EXPECT_GE(last[i], changed[i]);
    const auto truth = games.tokens(static_cast<std::uint64_t>(game[i]), 1);
    othello::Position clean = othello::Position::start(), twin = othello::Position::start();
    for (std::size_t t = 0; t < n_pos; ++t) {
      const int a = clean_tokens[i * n_pos + t], b = corrupted_tokens[i * n_pos + t];
      if (static_cast<int>(t) > last[i]) {
        EXPECT_EQ(a, 0);  // padding after the metric position
        EXPECT_EQ(b, 0);
        continue;
      }
      EXPECT_EQ(a, truth[t]) << "the clean input is the game itself";
      EXPECT_EQ(a != b, static_cast<int>(t) == changed[i]) << "pair " << i << " ply " << t;
      ASSERT_TRUE(twin.is_valid(othello::token_to_square(b))) << "twin move " << t << " illegal";
      clean.play(othello::token_to_square(a));
      twin.play(othello::token_to_square(b));
    }
    EXPECT_EQ(clean.valid_moves(), clean_valid[i]);
    EXPECT_EQ(twin.valid_moves(), corrupted_valid[i]);
    EXPECT_NE(clean_valid[i], corrupted_valid[i]);
    const int plus = answers[2 * i], minus = answers[2 * i + 1];
    EXPECT_TRUE(clean.is_valid(plus) && !twin.is_valid(plus)) << "plus square valid in clean only";
    EXPECT_TRUE(twin.is_valid(minus) && !clean.is_valid(minus)) << "minus square in twin only";
  }
}

TEST(ActivationPatching, ChosenPairsAndFigures) {
  REQUIRE_FIXTURE();
  const Product chosen = store.open("chosen");
  EXPECT_EQ(read<std::int64_t>(chosen, "pairs/corrupted_game"),
            (std::vector<std::int64_t>{3, 4, 5}));
  for (std::int8_t p : read<std::int8_t>(chosen, "pairs/metric_position")) EXPECT_LE(p, 40);
  EXPECT_EQ(chosen.root().dataset("head_out/patched").shape(),
            (std::vector<std::uint64_t>{3, 2, 4}));
  const auto figures = report::read_figures(chosen.root());
  ASSERT_EQ(figures.size(), 2u);
  EXPECT_EQ(figures[0].name, "resid_pre_heatmap");
  EXPECT_EQ(figures[1].name, "head_out_heatmap");
  const auto trace = nlohmann::json::parse(figures[1].plotly_json).at("data").at(0);
  const auto score = read<double>(chosen, "head_out/score");
  ASSERT_EQ(trace.at("z").size(), 2u);
  ASSERT_EQ(trace.at("z").at(1).size(), 4u);
  EXPECT_DOUBLE_EQ(trace.at("z").at(1).at(3).get<double>(), score[7]);
}

TEST(ActivationPatching, BadConfigsAreRejectedBeforeAnythingRuns) {
  test::ScratchDir dir;
  const std::filesystem::path none = dir.path() / "none.pth";
  std::ofstream(none) << "x";
  struct Case {
    std::string from, to, message;
  };
  const std::vector<Case> cases = {
      {"corrupted_games: [3, 4, 5]", "corrupted_games: [3, 4]",
       "'clean_games': corruption: pairs needs clean_games and corrupted_games of the same"},
      {"metric: legal_logprob", "metric: legal_logprob\n    answer_moves: [C4, F5]",
       "'answer_moves': only logit_diff reads answer_moves"},
      {"pairs: 5", "pairs: 5\n    answer_moves: [C4, D3]",
       "'answer_moves': 'D3' is not a square a move can be played on"},
      {"patch: [resid_pre, head_out]", "patch: [resid_pre, heads]", "heads"},
      {"patch: [resid_pre, head_out]", "patch: [resid_pre, head_out]\n    layers: [1, 1]",
       "'layers': layer 1 is listed twice"},
      {"patch: [resid_pre, head_out]", "patch: [head_out, head_out]",
       "'patch': 'head_out' is listed twice"},
  };
  for (const Case& c : cases) {
    std::string yaml = experiment(none);
    yaml.replace(yaml.find(c.from), c.from.size(), c.to);
    const auto result = run_othrun(dir.path(), yaml, "--check");
    EXPECT_EQ(result.exit_code, 2) << c.to << "\n" << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.to << "\n" << result.output;
  }
}

// RunRequest::start_layer, which the sweep uses to skip the layers a patch cannot change.
TEST(StartLayer, ContinuesACachedRunBitForBit) {
  const test::ReferenceFiles& ref = test::reference("small", 4);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  const auto model = gpt::HookedTransformer::from_file(ref / "tl.pth", {});
  const HostTensor tokens = load_pth(ref / "tokens.pth").tensor("");
  gpt::RunRequest full;
  full.hooks = {"blocks.1.hook_resid_pre", "blocks.1.hook_mlp_out"};
  full.logits = gpt::LogitsOutput::Logits;
  const gpt::Cache whole = model.run(tokens, full);
  gpt::RunRequest rest;
  rest.hooks = {"blocks.1.hook_mlp_out"};
  rest.logits = gpt::LogitsOutput::Logits;
  rest.start_layer = 1;
  rest.start_resid = whole.at("blocks.1.hook_resid_pre");
  const gpt::Cache resumed = model.run(tokens, rest);
  // The same operations on the same input in the same batch: bit for bit.
  for (const std::string name : {"logits", "blocks.1.hook_mlp_out"}) {
    EXPECT_EQ(resumed.at(name).to_vector<float>(), whole.at(name).to_vector<float>()) << name;
  }
  // And the start really is the input: another start_resid gives other logits.
  HostTensor shifted = whole.at("blocks.1.hook_resid_pre").contiguous();
  reinterpret_cast<float*>(shifted.mutable_data())[0] += 1.0f;
  rest.start_resid = shifted;
  EXPECT_NE(model.run(tokens, rest).at("logits").to_vector<float>(),
            whole.at("logits").to_vector<float>());
}

TEST(StartLayer, RefusesWhatItWouldSkip) {
  const test::ReferenceFiles& ref = test::reference("small", 4);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  const auto model = gpt::HookedTransformer::from_file(ref / "tl.pth", {});
  const HostTensor tokens = load_pth(ref / "tokens.pth").tensor("");
  gpt::RunRequest get;
  get.hooks = {"blocks.1.hook_resid_pre"};
  const HostTensor resid = model.run(tokens, get).at("blocks.1.hook_resid_pre");
  auto message = [&](const gpt::RunRequest& r) {
    try {
      model.run(tokens, r);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  gpt::RunRequest r;
  r.logits = gpt::LogitsOutput::Logits;
  r.start_layer = 1;
  r.start_resid = resid;
  r.hooks = {"blocks.0.hook_mlp_out"};
  EXPECT_EQ(message(r),
            "hook 'blocks.0.hook_mlp_out' is before start_layer 1: that part is not run");
  r.hooks = {"hook_embed"};
  EXPECT_NE(message(r).find("before start_layer 1"), std::string::npos);
  r.hooks = {"ln_final.hook_scale"};
  EXPECT_EQ(message(r), "no error");
  r.hooks = {};
  r.edits.push_back(gpt::Edit::replace("blocks.0.hook_resid_post", resid));
  EXPECT_EQ(message(r),
            "an edit at 'blocks.0.hook_resid_post' is before start_layer 1: that part is not run");
  r.edits.clear();
  r.start_resid = HostTensor(DType::Float32, {1, 59, 32});
  EXPECT_NE(message(r).find("start_resid must be [4, 59, 32]"), std::string::npos) << message(r);
  r.start_layer = 3;
  EXPECT_EQ(message(r), "start_layer 3 outside 0..2");
}

}  // namespace
}  // namespace othrun::patching
