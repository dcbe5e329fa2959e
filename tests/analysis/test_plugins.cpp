// The analysis plugins end to end: stores written here, plugins run from their modules, results
// checked on hand-computable cases and against numpy/torch recomputations (check_*.py).
#include "harness.hpp"

#include <othrun/analysis/inputs.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace othrun;
using namespace othrun::analysis_test;

namespace {

constexpr std::uint64_t kGames = 40, kPositions = 59, kDIn = 16;
const std::string kHook = "blocks.6.hook_resid_pre";

// Activations with some board signal, so that features correlate with squares.
std::vector<float> activations(Store& store) {
  const Product product = store.open("games");
  const games::GamesReader reader(product);
  const games::GameBatch batch = reader.read(0, kGames);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x(kGames * kPositions * kDIn);
  std::array<std::int8_t, 64> board{};
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::uint64_t p = 0; p < kPositions; ++p) {
      batch.board(g, static_cast<int>(p), games::Frame::MineTheirs, board);
      float* row = &x[(g * kPositions + p) * kDIn];
      for (std::uint64_t d = 0; d < kDIn; ++d) row[d] = noise(rng) + 1.5f * board[d * 3 % 64];
    }
  }
  return x;
}

class AnalysisStore : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<Store>(dir_.path() / "run.h5");
    write_games(*store_, "games", kGames, 99);
    write_activations(*store_, "acts", kHook, activations(*store_), kGames, kPositions, kDIn);
    run_plugin(
        *store_, "sae_encode", "features",
        {{"activations", std::string("acts")}, {"sae", fixture("sae_training.pt").string()}});
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

std::vector<double> read_all(const Store& store, const std::string& label,
                             const std::string& path) {
  return store.open(label).root().dataset(path).read_all<double>();
}

}  // namespace

TEST_F(AnalysisStore, SaeEncodeStoresCsrAndMetrics) {
  const Product p = store_->open("features");
  const analysis::FeatureReader reader(p.root().group("features"));
  EXPECT_EQ(reader.games(), kGames);
  EXPECT_EQ(reader.positions(), 59);
  EXPECT_EQ(reader.d_sae(), 24);
  const auto rows = reader.read(3, 2);
  EXPECT_EQ(rows.rows(), 2 * 59);
  std::string out;
  EXPECT_EQ(run_python("check_sae_encode.py",
                       {store_->index_path().string(), fixture("sae_training.pt").string()}, out),
            0)
      << out;
}

TEST_F(AnalysisStore, SaeCorrelationMatchesNumpyAndNotebook) {
  run_plugin(*store_, "sae_correlation", "corr", {{"features", std::string("features")}});
  run_plugin(*store_, "sae_correlation", "corr_nb",
             {{"features", std::string("features")}, {"notebook_compat", true}});
  std::string out;
  EXPECT_EQ(run_python("check_sae_correlation.py", {store_->index_path().string()}, out), 0) << out;
}

TEST_F(AnalysisStore, SaeCorrelationIndependentOfChunksAndThreads) {
  run_plugin(*store_, "sae_correlation", "whole",
             {{"features", std::string("features")}, {"chunk_games", std::int64_t{1000}}});
  run_plugin(*store_, "sae_correlation", "chunked",
             {{"features", std::string("features")}, {"chunk_games", std::int64_t{7}}}, 2);
  for (const char* name : {"firing_corr", "act_corr", "f1", "auroc", "fired_class",
                           "top_pairs/feature", "top_pairs/counts"}) {
    const auto a = read_all(*store_, "whole", name), b = read_all(*store_, "chunked", name);
    ASSERT_EQ(a.size(), b.size()) << name;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!(std::isnan(a[i]) && std::isnan(b[i]))) {
        ASSERT_EQ(a[i], b[i]) << name << " at " << i;
      }
    }
  }
}

TEST_F(AnalysisStore, MaxActivationAndSpectrumMatchTorch) {
  const std::map<std::string, Value> neuron{
      {"activations", std::string("acts")}, {"hook", kHook}, {"index", std::int64_t{3}}};
  auto with = [&](std::map<std::string, Value> extra) {
    extra.insert(neuron.begin(), neuron.end());
    return extra;
  };
  run_plugin(*store_, "max_activation", "max_nb", with({{"mine_theirs", std::string("parity")}}));
  run_plugin(*store_, "max_activation", "max_feature",
             {{"unit", std::string("feature")},
              {"features", std::string("features")},
              {"index", std::int64_t{2}},
              {"top", std::string("k")},
              {"k", std::int64_t{25}}});
  run_plugin(*store_, "neuron_spectrum", "spectrum", with({{"square", std::string("E0")}}));
  run_plugin(*store_, "neuron_spectrum", "spectrum_state",
             with({{"label", std::string("square_state")},
                   {"square", std::string("19")},
                   {"state", std::string("mine")},
                   {"bins", std::int64_t{30}}}));
  std::string out;
  EXPECT_EQ(run_python("check_units.py", {store_->index_path().string()}, out), 0) << out;
}

// A unit that is 2 exactly when the move just played is E0 and -1 otherwise: the spectrum
// separates perfectly and every active position played E0.
TEST_F(AnalysisStore, HandComputedMoveDetector) {
  const Product games_product = store_->open("games");
  const games::GameBatch batch = games::GamesReader(games_product).read(0, kGames);
  std::vector<float> x(kGames * kPositions);
  std::int64_t e0 = 0;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::uint64_t p = 0; p < kPositions; ++p) {
      const bool hit = batch.squares[games::GameBatch::index(g, static_cast<int>(p))] == 32;
      x[g * kPositions + p] = hit ? 2.0f : -1.0f;
      e0 += hit;
    }
  }
  write_activations(*store_, "detector", "unit", x, kGames, kPositions, 1);
  const std::map<std::string, Value> unit{{"activations", std::string("detector")},
                                          {"hook", std::string("unit")}};
  run_plugin(*store_, "neuron_spectrum", "det_spectrum", unit);
  run_plugin(*store_, "max_activation", "det_max", unit);
  const Product spectrum = store_->open("det_spectrum");
  EXPECT_DOUBLE_EQ(spectrum.root().attrs().get_float("auroc"), 1.0);
  EXPECT_EQ(spectrum.root().attrs().get_string("label"), "current_move==E0");
  const auto summary = spectrum.root().dataset("summary").read_all<double>();
  EXPECT_EQ(summary[5], static_cast<double>(e0));  // label true: count
  EXPECT_EQ(summary[6], 2.0);                      // mean
  const Product max = store_->open("det_max");
  const auto fraction = max.root().dataset("active_moves/fraction").read_all<double>();
  EXPECT_DOUBLE_EQ(fraction[32], 1.0);
  EXPECT_EQ(max.root().group("active_moves").attrs().get_int("active"), e0);
}

TEST_F(AnalysisStore, ProbeProjectionMatchesNumpy) {
  std::vector<float> x(kGames * kPositions * 8);
  std::mt19937 rng(8);
  std::normal_distribution<float> normal;
  for (auto& v : x) v = normal(rng);
  write_activations(*store_, "acts8", "blocks.6.hook_resid_post", x, kGames, kPositions, 8, true);
  run_plugin(*store_, "probe_projection", "probe",
             {{"activations", std::string("acts8")},
              {"probe", fixture("probe.pth").string()},
              {"store_scores", true},
              {"accuracy_positions", std::vector<std::int64_t>{5, 53}},
              {"directions", fixture("directions.pth").string()},
              {"directions_source", std::string("tensor")},
              {"directions_tensor", std::string("W_in")},
              {"directions_axis", std::int64_t{1}}});
  std::string out;
  EXPECT_EQ(run_python("check_probe.py",
                       {store_->index_path().string(), fixture("probe.pth").string(),
                        fixture("directions.pth").string()},
                       out),
            0)
      << out;
}
