// SAE training: geometric median on hand cases, recovery of a known sparse dictionary, unit-norm
// decoder rows, ghost grads, top-k; the plugin's SAELens folder read back by the analysis loader.
#include <gtest/gtest.h>

#include <othrun/analysis/sae.hpp>
#include <othrun/othello.hpp>
#include <othrun/pth.hpp>
#include <othrun/train/model_training.hpp>
#include <othrun/train/sae_training.hpp>

#include <cmath>

#include "../analysis/harness.hpp"
#include "util.hpp"

namespace othrun::train {
namespace {

TEST(GeometricMedian, OneDimensionIsTheMedian) {
  const std::vector<float> x{0, 1, 2, 3, 100};
  EXPECT_NEAR(geometric_median(x.data(), 5, 1, 1000)[0], 2.0, 1e-3);
}

TEST(GeometricMedian, EquilateralTriangleIsItsCentre) {
  const float h = std::sqrt(3.0f) / 2;
  const std::vector<float> x{0, 0, 1, 0, 0.5f, h, 0.5f, h / 3};  // the centre itself is a 4th point
  const auto m = geometric_median(x.data(), 4, 2, 1000);
  EXPECT_NEAR(m[0], 0.5, 1e-4);
  EXPECT_NEAR(m[1], h / 3, 1e-4);
}

// Rows that are sums of 2 of `features` random unit directions in d_in dims, magnitudes in [1, 2).
std::vector<float> sparse_data(std::int64_t rows, std::int64_t d_in, std::int64_t features) {
  othello::SplitMix64 rng(42);
  auto uniform = [&] {
    return static_cast<float>(static_cast<double>(rng.next() >> 11) * 0x1.0p-53);
  };
  std::vector<float> dict(static_cast<std::size_t>(features * d_in));
  for (std::int64_t f = 0; f < features; ++f) {
    double norm = 0;
    for (std::int64_t i = 0; i < d_in; ++i)
      norm += std::pow(dict[f * d_in + i] = uniform() - 0.5f, 2);
    for (std::int64_t i = 0; i < d_in; ++i)
      dict[f * d_in + i] /= static_cast<float>(std::sqrt(norm));
  }
  std::vector<float> x(static_cast<std::size_t>(rows * d_in), 0.0f);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int j = 0; j < 2; ++j) {
      const auto f = rng.below(static_cast<std::uint32_t>(features));
      const float magnitude = 1 + uniform();
      for (std::int64_t i = 0; i < d_in; ++i) x[r * d_in + i] += magnitude * dict[f * d_in + i];
    }
  }
  return x;
}

double explained_variance(const std::vector<float>& x, std::int64_t rows, const SaeWeights& w,
                          const std::string& architecture, std::int64_t k) {
  const analysis::Sae sae = to_analysis_sae(w, architecture, k);
  std::vector<float> acts(static_cast<std::size_t>(rows * w.d_sae)), out(x.size());
  sae.encode(x.data(), rows, acts.data());
  sae.decode(acts.data(), rows, out.data());
  double err = 0, var = 0;
  for (std::int64_t i = 0; i < w.d_in; ++i) {
    double mean = 0;
    for (std::int64_t r = 0; r < rows; ++r) mean += x[r * w.d_in + i] / static_cast<double>(rows);
    for (std::int64_t r = 0; r < rows; ++r) {
      err += std::pow(x[r * w.d_in + i] - out[r * w.d_in + i], 2);
      var += std::pow(x[r * w.d_in + i] - mean, 2);
    }
  }
  return 1 - err / var;
}

SaeTrainingOptions small_options() {
  SaeTrainingOptions o;
  o.d_in = 16;
  o.d_sae = 32;
  o.l1_coefficient = 1e-3;
  o.lr = 1e-2;
  o.warmup_steps = 20;
  o.steps = 400;
  o.batch_rows = 256;
  o.dead_feature_window = 20;
  o.geometric_median_rows = 500;
  o.seed = 3;
  o.log_every = 50;
  return o;
}

void expect_unit_rows(const SaeWeights& w) {
  for (std::int64_t f = 0; f < w.d_sae; ++f) {
    double norm = 0;
    for (std::int64_t i = 0; i < w.d_in; ++i) norm += std::pow(w.W_dec[f * w.d_in + i], 2);
    ASSERT_NEAR(std::sqrt(norm), 1.0, 1e-5) << "row " << f;
  }
}

TEST(SaeTraining, RecoversSparseData) {
  const std::int64_t rows = 4000;
  const auto x = sparse_data(rows, 16, 24);
  SaeTrainingOptions o = small_options();
  o.l1_coefficient = 1e-2;
  o.steps = 800;
  const SaeTrainingResult r = train_sae(x, rows, o);
  expect_unit_rows(r.weights);
  EXPECT_LT(r.mse.back(), r.mse.front() / 2);
  EXPECT_GT(explained_variance(x, rows, r.weights, "standard", 0), 0.85);  // L1 shrinks a little
  EXPECT_LT(r.l0.back(), 6.0);  // sparse: the data has 2 features per row
  EXPECT_EQ(r.last_window_density.size(), 32u);
}

TEST(SaeTraining, GhostGradsRunForDeadFeatures) {
  const std::int64_t rows = 2000;
  const auto x = sparse_data(rows, 16, 8);
  SaeTrainingOptions o = small_options();
  o.d_sae = 128;  // many more features than the data has: some die
  o.l1_coefficient = 1e-2;
  o.dead_feature_window = 5;
  o.steps = 100;
  const SaeTrainingResult r = train_sae(x, rows, o);
  EXPECT_GT(r.ghost_steps, 0);
  bool nonzero_ghost = false;
  for (double g : r.ghost) nonzero_ghost |= g > 0;
  EXPECT_TRUE(nonzero_ghost);
  expect_unit_rows(r.weights);
  o.ghost_grads = false;
  EXPECT_EQ(train_sae(x, rows, o).ghost_steps, 0);
}

TEST(SaeTraining, TopKRecoversSparseData) {
  const std::int64_t rows = 4000;
  const auto x = sparse_data(rows, 16, 24);
  SaeTrainingOptions o = small_options();
  o.architecture = "topk";
  o.k = 4;
  const SaeTrainingResult r = train_sae(x, rows, o);
  expect_unit_rows(r.weights);
  EXPECT_LE(r.l0.back(), 4.0);
  EXPECT_GT(explained_variance(x, rows, r.weights, "topk", 4), 0.8);
}

// The plugin end to end: activations product -> SAELens folder the analysis loader reads back.
TEST(TrainSaePlugin, WritesALoadableSaeLensFolder) {
  train_test::TempDir dir;
  Store store(dir.path() / "run.h5");
  analysis_test::write_games(store, "games", 40, 7);
  const auto x = sparse_data(40 * 59, 16, 24);
  analysis_test::write_activations(store, "inference", "blocks.1.hook_resid_pre", x, 40, 59, 16);
  ModelTrainingOptions mo;  // a tiny model for the spliced-loss test
  mo.model = train_test::tiny_config();
  mo.steps = 2;
  mo.batch_games = 4;
  mo.eval_games = 2;
  save_pth(dir.path() / "model.pth", make_state_dict(train_model(mo).state));
  analysis_test::run_plugin(store, "train_sae", "sae",
                            {{"activations", std::string("inference:blocks.1.hook_resid_pre")},
                             {"d_sae", std::int64_t{32}},
                             {"steps", std::int64_t{50}},
                             {"batch_rows", std::int64_t{128}},
                             {"lr", 1e-2},
                             {"warmup_steps", std::int64_t{5}},
                             {"loss_games", std::int64_t{5}},
                             {"model", (dir.path() / "model.pth").string()},
                             {"output", (dir.path() / "sae").string()}});
  const analysis::Sae sae = analysis::load_saelens(dir.path() / "sae");
  EXPECT_EQ(sae.d_in, 16);
  EXPECT_EQ(sae.d_sae, 32);
  EXPECT_EQ(sae.hook_name, "blocks.1.hook_resid_pre");
  const Product p = store.open("sae");
  EXPECT_GT(p.root().attrs().get_float("explained_variance"), 0.5);
  EXPECT_TRUE(std::isfinite(p.root().attrs().get_float("loss_increase")));
  EXPECT_EQ(p.root().dataset("curve/density").rows(), 32u);
}

}  // namespace
}  // namespace othrun::train
