// sae_encode's spliced loss end to end through `othrun` on the shipped model and 128-feature SAE:
// the stored losses equal train_sae's splice computation (libothrun_train's own Gpt forward and
// SAE, another code path than the HookedTransformer edit sae_encode uses) on the same games; the
// hooks, the games and the model are checked before anything runs.
#include <gtest/gtest.h>

#include <othrun/analysis/sae.hpp>
#include <othrun/games.hpp>
#include <othrun/store.hpp>
#include <othrun/train/sae_splice.hpp>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reference.hpp"

namespace othrun {
namespace {

namespace fs = std::filesystem;

fs::path shipped(const std::string& name) { return fs::path(OTHRUN_SOURCE_DIR) / "models" / name; }

test::CommandOutput run_othrun(const fs::path& dir, const std::string& yaml,
                               const std::string& flags = "") {
  std::ofstream(dir / "x.yaml") << yaml;
  return test::run_command(fmt::format("{} --plugin-path {} --threads 2 {} {}", OTHRUN_EXE,
                                       OTHRUN_PLUGIN_DIR, flags, (dir / "x.yaml").string()));
}

// 12 games cached at `cached_hook`; sae_encode with the shipped SAE and the lines `extra`.
std::string experiment(const std::string& cached_hook, const std::string& extra) {
  return fmt::format(
      "name: loss\nstore: out.h5\nseed: 7\nsteps:\n"
      "  - plugin: games\n    label: games\n    games: 12\n"
      "  - plugin: games\n    label: other_games\n    games: 12\n"
      "  - plugin: inference\n    label: cache\n    games: games\n    model: {0}\n"
      "    hooks: [{1}]\n    board_moves: 0\n"
      "  - plugin: sae_encode\n    label: enc\n    activations: cache:{1}\n    sae: {2}\n"
      "    metric_positions: \"5:54\"\n    chunk_games: 5\n{3}",
      shipped("othello_gpt_default.pth").string(), cached_hook,
      shipped("sae_l6_resid_pre_128").string(), extra);
}

std::string with_model(const std::string& games_label, const std::string& more = "") {
  return fmt::format("    model: {}\n    games: {}\n{}",
                     shipped("othello_gpt_default.pth").string(), games_label, more);
}

TEST(SaeEncodeLoss, EqualsTrainSaesSpliceOnTheSameGames) {
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(),
      experiment("blocks.6.hook_resid_pre", with_model("games", "    loss_games: 10\n")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  Store store(dir.path() / "out.h5");
  const Product product = store.open("enc");
  const Attributes m = product.root().group("metrics").attrs();
  const double clean = m.get_float("loss_clean"), spliced = m.get_float("loss_spliced");
  EXPECT_EQ(m.get_int("loss_games"), 10);
  EXPECT_EQ(m.get_string("loss_hook"), "blocks.6.hook_resid_pre");
  EXPECT_EQ(m.get_string("loss_spliced_positions"), "5:54");

  // The reference: train_sae's spliced_loss on the same 10 games' tokens.
  const Product games_product = store.open("games");
  const games::GamesReader reader(games_product);
  const std::vector<std::int8_t> tokens8 = reader.tokens(0, 10);
  const std::vector<std::int64_t> tokens(tokens8.begin(), tokens8.end());
  std::int64_t targets = 0;
  for (std::size_t g = 0; g < 10; ++g)
    for (std::size_t t = 1; t < 60; ++t) targets += tokens[g * 60 + t] != 0;
  EXPECT_EQ(m.get_int("loss_targets"), targets);

  const analysis::Sae sae = analysis::load_sae(shipped("sae_l6_resid_pre_128"));
  ASSERT_EQ(sae.architecture, analysis::SaeArchitecture::Standard);
  const train::SaeWeights weights{sae.d_in, sae.d_sae, sae.W_enc, sae.b_enc, sae.W_dec, sae.b_dec};
  train::SpliceRequest request;
  request.model = shipped("othello_gpt_default.pth");
  request.hook = "blocks.6.hook_resid_pre";
  request.pos_begin = 5;
  request.pos_end = 54;
  const train::SpliceLoss expected = train::spliced_loss(request, weights, tokens);
  // Both are float32 forwards of the same weights by different kernels (HookedTransformer + the
  // analysis SAE's BLAS encode vs libothrun_train's Gpt + ATen addmm), averaged in double. A
  // log-prob carries float32 rounding (eps 1.2e-7) of logits of size ~10 grown through 8 layers
  // of length-128/512 sums: at most ~1e-5 (1.4e-7 seen here); a feature whose pre-activation
  // lies that close to 0 may fire in one and not the other, moving the reconstruction by as
  // little. The mean of such differences is within 2e-5, while a wrong splice (other positions,
  // the error kept, another hook) moves the spliced loss by more than 0.01.
  EXPECT_NEAR(clean, expected.clean, 2e-5);
  EXPECT_NEAR(spliced, expected.spliced, 2e-5);
  EXPECT_GT(spliced - clean, 0.05);  // the SAE loses information: +0.31 on held-out games
  fmt::print(
      "loss clean {:.9f} (train_sae {:.9f}), spliced {:.9f} (train_sae {:.9f}), {} targets\n",
      clean, expected.clean, spliced, expected.spliced, targets);
}

TEST(SaeEncodeLoss, NotMeasuredWithoutAModel) {
  test::ScratchDir dir;
  const auto result = run_othrun(dir.path(), experiment("blocks.6.hook_resid_pre", ""));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  Store store(dir.path() / "out.h5");
  const Product product = store.open("enc");
  const Attributes m = product.root().group("metrics").attrs();
  EXPECT_TRUE(m.has("mse"));
  EXPECT_FALSE(m.has("loss_clean"));
  EXPECT_FALSE(m.has("loss_spliced"));
}

TEST(SaeEncodeLoss, CheckRefusesAHookOtherThanTheSaes) {
  test::ScratchDir dir;
  // The SAE was trained on blocks.6.hook_resid_pre; resid_post has the same width, so only the
  // hook check can catch it.
  const auto result = run_othrun(
      dir.path(), experiment("blocks.6.hook_resid_post", with_model("games")), "--check");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("trained on hook blocks.6.hook_resid_pre"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("would splice at) hook blocks.6.hook_resid_post"), std::string::npos)
      << result.output;
}

TEST(SaeEncodeLoss, CheckRefusesAModelWithoutItsGames) {
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(),
      experiment("blocks.6.hook_resid_pre",
                 fmt::format("    model: {}\n", shipped("othello_gpt_default.pth").string())),
      "--check");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("`model` needs the games the cache ran on"), std::string::npos)
      << result.output;
}

TEST(SaeEncodeLoss, RefusesGamesTheCacheDidNotRunOn) {
  test::ScratchDir dir;
  const auto result =
      run_othrun(dir.path(), experiment("blocks.6.hook_resid_pre", with_model("other_games")));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("'other_games' is not the games the activations 'cache'"),
            std::string::npos)
      << result.output;
}

TEST(SaeEncodeLoss, RefusesAModelOtherThanTheCaches) {
  test::ScratchDir dir;
  // The same weights at another path: only the recorded path can tell, and it must be refused.
  const fs::path copy = dir.path() / "copy.pth";
  fs::copy_file(shipped("othello_gpt_default.pth"), copy);
  const auto result = run_othrun(
      dir.path(), experiment("blocks.6.hook_resid_pre",
                             fmt::format("    model: {}\n    games: games\n", copy.string())));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("the activations 'cache' were made with"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("copy.pth"), std::string::npos) << result.output;
}

TEST(SaeEncodeLoss, RefusesMoreLossGamesThanTheGamesHold) {
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(),
      experiment("blocks.6.hook_resid_pre", with_model("games", "    loss_games: 13\n")));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("13 games asked, but product 'games' holds 12"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace othrun
