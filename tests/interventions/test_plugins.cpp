// probe_intervention and sae_intervention end to end through `othrun` on the shipped model, probe
// and SAE (models/): the probe flip must move the predictions towards the edited board far more
// than a random direction of the same displacement norm; stored cases must be what the engine
// says; an SAE edit that changes no feature must change nothing; ranked features must be the
// correlation product's best.
#include <gtest/gtest.h>

#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/games.hpp>
#include <othrun/othello.hpp>
#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "reference.hpp"

namespace othrun {
namespace {

namespace fs = std::filesystem;

fs::path shipped(const std::string& name) { return fs::path(OTHRUN_SOURCE_DIR) / "models" / name; }

test::CommandOutput run_othrun(const fs::path& dir, const std::string& yaml) {
  std::ofstream(dir / "x.yaml") << yaml;
  return test::run_command(fmt::format("{} --plugin-path {} --threads 2 {}", OTHRUN_EXE,
                                       OTHRUN_PLUGIN_DIR, (dir / "x.yaml").string()));
}

std::string games_step(int n) {
  return fmt::format(
      "name: iv\nstore: out.h5\nseed: 5\nsteps:\n"
      "  - plugin: games\n    label: games\n    games: {}\n    full_games_only: true\n",
      n);
}

TEST(ProbeIntervention, ProbeFlipsMoveThePredictionsFarMoreThanARandomDirection) {
  test::ScratchDir dir;
  const std::string yaml =
      games_step(200) +
      fmt::format(
          "  - plugin: probe_intervention\n    label: flip\n    model: {}\n    probe: {}\n"
          "    layers: [3, 4, 5]\n    alphas: [4.0]\n    cases: 100\n",
          shipped("othello_gpt_default.pth").string(), shipped("linear_probe_l6.pth").string());
  const auto result = run_othrun(dir.path(), yaml);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  Store store(dir.path() / "out.h5");
  const Product flip = store.open("flip");
  const Group& root = flip.root();
  const auto shift = root.dataset("metrics/logprob_shift").read_all<double>();  // [3, 1, 2]
  const auto flipped = root.dataset("metrics/errors_flipped").read_all<double>();
  const double before = root.dataset("metrics/before/errors_flipped").read_all<double>().at(0);
  ASSERT_EQ(shift.size(), 6u);
  for (std::size_t l = 0; l < 3; ++l) {
    const double probe = shift[l * 2], random = shift[l * 2 + 1];
    // The margin: along the probe the moves the flip makes legal gain log-prob over those it makes
    // illegal; a random direction of the same displacement norm does next to nothing. A factor 3
    // leaves room for sampling noise (100 cases) yet fails if the probe direction were no better
    // than chance.
    EXPECT_GT(probe, 0.1) << "layer " << l + 3;
    EXPECT_GT(probe, 3 * std::abs(random)) << "layer " << l + 3;
    EXPECT_LT(flipped[l * 2], flipped[l * 2 + 1]) << "layer " << l + 3;
    EXPECT_LT(flipped[l * 2], before) << "layer " << l + 3;
  }

  // Every stored case is what the engine says: one disc turned over, its legal moves.
  const Product games_product = store.open("games");
  const games::GameBatch games = games::GamesReader(games_product).read(0, 200);
  const auto game = root.dataset("cases/game").read_all<std::int64_t>();
  const auto position = root.dataset("cases/position").read_all<std::int64_t>();
  const auto square = root.dataset("cases/square").read_all<std::int64_t>();
  const auto legal_edited = root.dataset("cases/legal_edited").read_all<std::uint64_t>();
  const auto black = root.dataset("cases/edited_black").read_all<std::uint64_t>();
  const auto white = root.dataset("cases/edited_white").read_all<std::uint64_t>();
  ASSERT_EQ(game.size(), 100u);
  for (std::size_t c = 0; c < game.size(); ++c) {
    const othello::Position real =
        games.position(static_cast<std::uint64_t>(game[c]), static_cast<int>(position[c]));
    const othello::Bitboard bit = othello::square_bit(static_cast<int>(square[c]));
    EXPECT_EQ(black[c], real.black() ^ bit);
    EXPECT_EQ(white[c], real.white() ^ bit);
    const othello::Position edited(black[c], white[c], real.to_move());
    EXPECT_EQ(edited.to_move(), real.to_move());
    EXPECT_EQ(legal_edited[c], edited.valid_moves());
    EXPECT_NE(legal_edited[c], real.valid_moves());  // require_change
  }

  // The stored metric is the mean of the stored per-case predictions...
  const auto topn = root.dataset("predictions/topn").read_all<std::uint64_t>();  // [3, 1, 2, 100]
  const auto errors_topn = root.dataset("metrics/errors_topn").read_all<double>();
  for (std::size_t slot = 0; slot < 6; ++slot) {
    double sum = 0;
    for (std::size_t c = 0; c < 100; ++c)
      sum += othello::count(topn[slot * 100 + c] ^ legal_edited[c]);
    EXPECT_NEAR(errors_topn[slot], sum / 100, 1e-12) << slot;
  }
  // ...and the cases' predictions are what the model gives with the reflection at their position
  // (layer 3, alpha 4, probe direction), recomputed one case at a time through the edit API. The
  // plugin ran batches: float32 log-probs may differ in the last bits, so a case whose n-th and
  // (n+1)-th moves are within 1e-4 could rank them either way and is not compared.
  const auto model = gpt::HookedTransformer::from_file(shipped("othello_gpt_default.pth"), {});
  const analysis::Probe probe = analysis::load_probe(shipped("linear_probe_l6.pth"), false);
  int compared = 0;
  for (std::size_t c = 0; c < 10; ++c) {
    const int t = static_cast<int>(position[c]);
    std::vector<std::int64_t> tokens;
    for (int i = 0; i <= t; ++i)
      tokens.push_back(
          games.tokens[games::GameBatch::index(static_cast<std::uint64_t>(game[c]), i)]);
    std::vector<float> direction(128);
    for (std::size_t k = 0; k < 128; ++k)
      direction[k] = probe.mine_dir[k * 64 + static_cast<std::size_t>(square[c])];
    gpt::RunRequest request;
    request.logits = gpt::LogitsOutput::LogProbs;
    request.edits = {gpt::Edit::scale_along("blocks.3.hook_resid_post",
                                            HostTensor::from_values<float>({128}, direction),
                                            {-4.0}, gpt::Positions::at({t}))};
    const gpt::Cache out =
        model.run(HostTensor::from_values<std::int64_t>({1, t + 1}, tokens), request);
    const float* lp = out.at("log_probs").data_as<float>() + static_cast<std::size_t>(t) * 61;
    std::vector<int> order(60);
    for (int i = 0; i < 60; ++i) order[static_cast<std::size_t>(i)] = i + 1;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return lp[a] > lp[b]; });
    const auto n = static_cast<std::size_t>(othello::count(legal_edited[c]));
    if (n < 60 && lp[order[n - 1]] - lp[order[n]] < 1e-4) continue;
    othello::Bitboard expected = 0;
    for (std::size_t i = 0; i < n; ++i)
      expected |= othello::square_bit(othello::token_to_square(order[i]));
    EXPECT_EQ(topn[c], expected) << "case " << c;  // slot [layer 3, alpha 4, probe] = 0
    ++compared;
  }
  EXPECT_GT(compared, 5);
}

TEST(ProbeIntervention, AddingTheDirectionAlsoBeatsTheRandomControl) {
  test::ScratchDir dir;
  const std::string yaml =
      games_step(200) +
      fmt::format(
          "  - plugin: probe_intervention\n    label: flip\n    model: {}\n    probe: {}\n"
          "    layers: [4]\n    mode: add\n    alphas: [5.0]\n    cases: 60\n",
          shipped("othello_gpt_default.pth").string(), shipped("linear_probe_l6.pth").string());
  const auto result = run_othrun(dir.path(), yaml);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  Store store(dir.path() / "out.h5");
  const auto shift = store.open("flip").root().dataset("metrics/logprob_shift").read_all<double>();
  ASSERT_EQ(shift.size(), 2u);
  EXPECT_GT(shift[0], 0.1);  // the same margin as for reflect
  EXPECT_GT(shift[0], 3 * std::abs(shift[1]));
}

TEST(ProbeIntervention, RefusesALayerTheModelLacksBeforeRunning) {
  test::ScratchDir dir;
  std::ofstream(dir.path() / "x.yaml")
      << games_step(5)
      << fmt::format(
             "  - plugin: probe_intervention\n    model: {}\n    probe: {}\n"
             "    layers: [4, 8]\n",
             shipped("othello_gpt_default.pth").string(), shipped("linear_probe_l6.pth").string());
  const auto result =
      test::run_command(fmt::format("{} --plugin-path {} --check {}", OTHRUN_EXE, OTHRUN_PLUGIN_DIR,
                                    (dir.path() / "x.yaml").string()));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("layer 8 does not exist: othello_gpt_default.pth has 8 layers"),
            std::string::npos)
      << result.output;
}

std::string sae_steps(const std::string& extra) {
  return games_step(40) +
         fmt::format(
             "  - plugin: inference\n    label: cache\n    model: {0}\n"
             "    hooks: [blocks.6.hook_resid_pre]\n    board_moves: 0\n"
             "  - plugin: sae_encode\n    label: enc\n    activations: "
             "cache:blocks.6.hook_resid_pre\n"
             "    sae: {1}\n"
             "  - plugin: sae_correlation\n    label: corr\n    features: enc\n"
             "  - plugin: sae_intervention\n    label: ranked\n    model: {0}\n    sae: {1}\n"
             "    correlation: corr\n    squares: [C3]\n    state: mine\n    top_features: 1\n"
             "    probe: {2}\n"
             "  - plugin: sae_intervention\n    label: unchanged\n    model: {0}\n    sae: {1}\n"
             "    features: [0, 5, 77]\n    op: scale\n    value: 1.0\n    probe: {2}\n{3}",
             shipped("othello_gpt_default.pth").string(), shipped("sae_l6_resid_pre_128").string(),
             shipped("linear_probe_l6.pth").string(), extra);
}

TEST(SaeIntervention, RankedFeaturesAndAnEditThatChangesNoFeature) {
  test::ScratchDir dir;
  const auto result = run_othrun(dir.path(), sae_steps(""));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  Store store(dir.path() / "out.h5");

  // Scaling by 1 changes no feature: the splice leaves every log-prob and probe reading as it was.
  const Product unchanged = store.open("unchanged");
  for (const char* name : {"logprob_change", "probe_change", "probe_flips"}) {
    const auto v = unchanged.root().dataset(name).read_all<double>();
    std::size_t finite = 0;
    for (double x : v) {
      if (std::isnan(x)) continue;
      ++finite;
      EXPECT_EQ(x, 0.0) << name;
    }
    EXPECT_GT(finite, 0u) << name;
  }
  const auto rows = unchanged.root().dataset("rows").read_all<std::int64_t>();
  EXPECT_EQ(rows.at(0), 40 * 59);  // every (game, position): full games

  // The ranked feature is the correlation product's best for C3 (square 19) being mine.
  const Product corr = store.open("corr");
  const auto firing = corr.root().dataset("firing_corr").read_all<float>();
  std::int64_t best = 0;
  for (std::int64_t f = 0; f < 128; ++f) {
    if (firing[static_cast<std::size_t>(f * 192 + 19 * 3 + 2)] >
        firing[static_cast<std::size_t>(best * 192 + 19 * 3 + 2)])
      best = f;
  }
  const Product ranked = store.open("ranked");
  EXPECT_EQ(ranked.root().dataset("features/index").read_all<std::int64_t>().at(0), best);
  EXPECT_EQ(ranked.root().dataset("features/square").read_all<std::int64_t>().at(0), 19);
  // Ablating it does change the predictions where it fired.
  const auto lp = ranked.root().dataset("logprob_change").read_all<double>();  // [1, 2, 8, 8]
  double largest = 0;
  for (std::size_t s = 64; s < 128; ++s)
    if (!std::isnan(lp[s])) largest = std::max(largest, std::abs(lp[s]));
  EXPECT_GT(largest, 1e-3);

  // The stored board is the mean over rows of what the model computes with that edit, recomputed
  // here through the edit API on the same games: all rows, and the rows where the feature fired.
  const games::GameBatch games = games::GamesReader(store.open("games")).read(0, 40);
  std::vector<std::int64_t> tokens(40 * 59);
  for (std::uint64_t g = 0; g < 40; ++g)
    for (int t = 0; t < 59; ++t)
      tokens[g * 59 + static_cast<std::uint64_t>(t)] = games.tokens[games::GameBatch::index(g, t)];
  const HostTensor input = HostTensor::from_values<std::int64_t>({40, 59}, tokens);
  const auto model = gpt::HookedTransformer::from_file(shipped("othello_gpt_default.pth"), {});
  auto sae = std::make_shared<analysis::Sae>(analysis::load_sae(shipped("sae_l6_resid_pre_128")));
  const std::string hook = "blocks.6.hook_resid_pre";
  gpt::RunRequest request;
  request.logits = gpt::LogitsOutput::LogProbs;
  request.hooks = {hook};
  const gpt::Cache clean = model.run(input, request);
  request.hooks.clear();
  request.edits = {gpt::Edit::sae_features(hook, sae, {{best, gpt::FeatureEdit::Op::Set, 0.0}})};
  const gpt::Cache edited = model.run(input, request);
  std::vector<float> acts(40 * 59 * static_cast<std::size_t>(sae->d_sae));
  sae->encode(clean.at(hook).data_as<float>(), 40 * 59, acts.data());
  std::vector<double> sum(2 * 64);
  double fired_rows = 0;
  for (std::size_t r = 0; r < 40 * 59; ++r) {
    const bool fired =
        acts[r * static_cast<std::size_t>(sae->d_sae) + static_cast<std::size_t>(best)] > 0;
    fired_rows += fired;
    for (int token = 1; token <= 60; ++token) {
      const auto s = static_cast<std::size_t>(othello::token_to_square(token));
      const double d =
          double{
              edited.at("log_probs").data_as<float>()[r * 61 + static_cast<std::size_t>(token)]} -
          double{clean.at("log_probs").data_as<float>()[r * 61 + static_cast<std::size_t>(token)]};
      sum[s] += d;
      if (fired) sum[64 + s] += d;
    }
  }
  const auto stored_rows = ranked.root().dataset("rows").read_all<std::int64_t>();
  ASSERT_EQ(stored_rows.at(1), static_cast<std::int64_t>(fired_rows));
  ASSERT_GT(fired_rows, 0);
  for (std::size_t s = 0; s < 64; ++s) {
    if (!othello::is_move_square(static_cast<int>(s))) {
      EXPECT_TRUE(std::isnan(lp[s]) && std::isnan(lp[64 + s])) << s;
      continue;
    }
    // The plugin ran the 40 games as one batch too, on the same thread count as this process
    // may not: float32 log-probs then differ in the last bits (~1e-6 of values ~10); means of
    // such differences stay far below 1e-4, while a wrong row set or sign is off by > 1e-2.
    EXPECT_NEAR(lp[s], sum[s] / (40 * 59), 1e-4) << s;
    EXPECT_NEAR(lp[64 + s], sum[64 + s] / fired_rows, 1e-4) << s;
  }
}

TEST(SaeIntervention, RefusesAProbeUpstreamOfTheEdit) {
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(), games_step(5) + fmt::format("  - plugin: sae_intervention\n    model: {}\n"
                                              "    sae: {}\n    features: [1]\n    probe: {}\n"
                                              "    probe_hook: resid_post.2\n",
                                              shipped("othello_gpt_default.pth").string(),
                                              shipped("sae_l6_resid_pre_128").string(),
                                              shipped("linear_probe_l6.pth").string()));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("comes before the edited hook blocks.6.hook_resid_pre"),
            std::string::npos)
      << result.output;
}

TEST(SaeIntervention, RefusesFeaturesAndCorrelationTogether) {
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(), sae_steps("  - plugin: sae_intervention\n    label: both\n    model: " +
                            shipped("othello_gpt_default.pth").string() +
                            "\n    sae: " + shipped("sae_l6_resid_pre_128").string() +
                            "\n    features: [1]\n    correlation: corr\n    squares: [C3]\n"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("give either `features` or `correlation`"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace othrun
