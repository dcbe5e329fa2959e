// The train_probe plugin end to end: activations that are a known linear function of the board
// (written where the inference plugin writes them, ActivationReader's layout), a games product, the
// plugin run from its module; the probe must reach a high held-out accuracy, and its file must be
// main_linear_probe.pth's layout for torch.load.
#include <gtest/gtest.h>

#include <othrun/analysis/inputs.hpp>
#include <othrun/games.hpp>
#include <othrun/pth.hpp>

#include <bit>
#include <cmath>
#include <random>

#include "../analysis/harness.hpp"
#include "util.hpp"

namespace othrun::train {
namespace {

constexpr std::uint64_t kGames = 60, kPositions = 59;
constexpr std::int64_t kD = 128;
const std::string kHook = "blocks.6.hook_resid_post";

// Per square s two board features, is_empty and is_black - is_white (the probe's classes are
// linearly separable in them without a bias), mixed by an orthogonal matrix (Sylvester-Hadamard
// / sqrt(d): every feature reaches every dimension) plus a little noise.
std::vector<float> board_activations(const games::GameBatch& batch) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> mix(kD * kD);
  for (std::int64_t i = 0; i < kD; ++i) {
    for (std::int64_t j = 0; j < kD; ++j) {
      const float sign = std::popcount(static_cast<std::uint64_t>(i & j)) % 2 ? -1.0f : 1.0f;
      mix[static_cast<std::size_t>(i * kD + j)] = sign / std::sqrt(static_cast<float>(kD));
    }
  }
  std::vector<float> x(kGames * kPositions * kD);
  std::array<std::int8_t, 64> board{};
  std::array<float, kD> f{};
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::uint64_t t = 0; t < kPositions; ++t) {
      batch.board(g, static_cast<int>(t), games::Frame::BlackWhite, board);
      for (std::size_t s = 0; s < 64; ++s) {
        f[2 * s] = board[s] == 0 ? 1.0f : 0.0f;
        f[2 * s + 1] = static_cast<float>(board[s]);  // +1 black, -1 white
      }
      float* row = &x[(g * kPositions + t) * kD];
      for (std::int64_t i = 0; i < kD; ++i) {
        float v = 0.01f * normal(rng);
        for (std::int64_t j = 0; j < kD; ++j) v += mix[i * kD + j] * f[static_cast<std::size_t>(j)];
        row[i] = v;
      }
    }
  }
  return x;
}

// An activations product as the inference plugin writes it: one dataset per hook at
// ActivationReader::dataset_path, [games, positions, d_model], with its positions attributes.
void write_activations(Store& store, const std::vector<float>& x) {
  Provenance prov;
  prov.plugin = "inference";
  prov.kinds = {"activations"};
  Product product = store.begin("acts", prov);
  Dataset d = product.root().create_dataset<float>(analysis::ActivationReader::dataset_path(kHook),
                                                   {kGames, kPositions, kD});
  d.write_rows<float>(0, x);
  d.attrs().set("hook", kHook);
  d.attrs().set("positions_start", std::int64_t{0});
  d.attrs().set("positions_stop", static_cast<std::int64_t>(kPositions));
  store.commit(std::move(product));
}

TEST(TrainProbePlugin, LearnsALinearBoardEncoding) {
  analysis_test::TempDir dir;
  Store store(dir.path() / "run.h5");
  analysis_test::write_games(store, "games", kGames, 5);
  {
    const Product games_product = store.open("games");
    write_activations(store, board_activations(games::GamesReader(games_product).read(0, kGames)));
  }
  const auto probe_path = dir.path() / "probe.pth";
  analysis_test::run_plugin(store, "train_probe", "probe",
                            {{"activations", "acts:" + std::string(kHook)},
                             {"games", std::string("games")},
                             {"lr", 0.02},
                             {"steps", std::int64_t{200}},
                             {"batch_rows", std::int64_t{512}},
                             {"holdout_fraction", 0.2},
                             {"output", probe_path.string()},
                             {"seed", std::int64_t{3}}},
                            1);

  const Product product = store.open("probe");
  const auto accuracy = product.root().dataset("accuracy").read_all<double>();  // [mode, square]
  ASSERT_EQ(accuracy.size(), 3u * 64);
  for (std::size_t i = 0; i < accuracy.size(); ++i)
    EXPECT_GT(accuracy[i], 0.9) << "mode " << i / 64 << " square " << i % 64;
  for (int m = 0; m < 3; ++m)
    EXPECT_GT(product.root().attrs().get_float("mean_accuracy_mode" + std::to_string(m)), 0.98);
  EXPECT_EQ(product.root().attrs().get_string("probe_path"), probe_path.string());

  // The file: one tensor [modes, d_model, rows, cols, options], read back here and by torch.
  const PthFile file = load_pth(probe_path);
  ASSERT_EQ(file.tensors.size(), 1u);
  EXPECT_EQ(file.tensors[0].tensor.shape(), (HostTensor::Shape{3, kD, 8, 8, 3}));
  if (!train_test::python_has_torch()) GTEST_SKIP() << "no torch in " << OTHRUN_PYTHON3;
  const std::string command = std::string(OTHRUN_PYTHON3) +
                              " -c 'import sys, torch; t = torch.load(sys.argv[1]); "
                              "assert isinstance(t, torch.Tensor), type(t); "
                              "assert tuple(t.shape) == (3, " +
                              std::to_string(kD) +
                              ", 8, 8, 3), t.shape; assert t.dtype == torch.float32, t.dtype' '" +
                              probe_path.string() + "' 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace othrun::train
