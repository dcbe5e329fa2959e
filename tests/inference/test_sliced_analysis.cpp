// Issue 13's first failure end to end: `othrun` caches a hook with `positions: "5:54"` and runs
// max_activation on it; its examples and mean board must be those of the full cache (positions
// "all", same run) restricted to positions 5..53, with rows labelled by their real position.
#include <gtest/gtest.h>

#include <othrun/games.hpp>
#include <othrun/store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "reference.hpp"

namespace othrun::gpt {
namespace {

constexpr std::uint64_t kGames = 30;
constexpr std::int64_t kFirst = 5, kStop = 54, kIndex = 7, kTop = 30;
const std::string kHook = "blocks.0.mlp.hook_post";

std::string experiment(const std::filesystem::path& model) {
  return fmt::format(
      "name: sliced\nstore: out.h5\nseed: 5\nsteps:\n"
      "  - plugin: games\n    games: {0}\n"
      "  - plugin: inference\n    label: cache_all\n    model: {1}\n    hooks: [post:0]\n"
      "    batch_games: 10\n"
      "  - plugin: inference\n    label: cache\n    model: {1}\n    hooks: [post:0]\n"
      "    batch_games: 10\n    positions: \"{2}:{3}\"\n"
      "  - plugin: max_activation\n    label: max\n    games: games\n    activations: cache:{4}\n"
      "    index: {5}\n    top: k\n    k: {6}\n",
      kGames, model.string(), kFirst, kStop, kHook, kIndex, kTop);
}

TEST(SlicedCacheAnalysis, MaxActivationMatchesFullCacheRestricted) {
  const test::ReferenceFiles& ref = test::reference("small", 4);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  test::ScratchDir dir;
  std::ofstream(dir.path() / "x.yaml") << experiment(ref / "tl.pth");
  const auto result =
      test::run_command(fmt::format("{} --plugin-path {} --threads 2 {}", OTHRUN_EXE,
                                    OTHRUN_PLUGIN_DIR, (dir.path() / "x.yaml").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  Store store(dir.path() / "out.h5");
  const Product full_cache = store.open("cache_all"), sliced_cache = store.open("cache");
  const Dataset full_set = full_cache.root().dataset(kHook);
  const Dataset sliced_set = sliced_cache.root().dataset(kHook);
  const auto shape = full_set.shape();
  ASSERT_EQ(shape.size(), 3u);
  const std::uint64_t positions = shape[1], width = shape[2], sliced_positions = kStop - kFirst;
  ASSERT_EQ(sliced_set.shape(), (std::vector<std::uint64_t>{kGames, sliced_positions, width}));
  const auto full = full_set.read_all<float>();
  const auto sliced = sliced_set.read_all<float>();

  // Unit kIndex over positions 5..53 of the full cache, game-major, and how far the sliced cache's
  // copy of it is (the two forwards may differ by rounding; 0 when they share the computation).
  std::vector<float> v;
  std::vector<std::pair<std::int64_t, std::int64_t>> rows;  // game, position
  double diff = 0;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::int64_t t = kFirst; t < kStop; ++t) {
      const float value = full[(g * positions + static_cast<std::uint64_t>(t)) * width + kIndex];
      const float copy =
          sliced[(g * sliced_positions + static_cast<std::uint64_t>(t - kFirst)) * width + kIndex];
      diff = std::max(diff, std::abs(double{value} - copy));
      v.push_back(value);
      rows.emplace_back(static_cast<std::int64_t>(g), t);
    }
  }
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return v[a] > v[b]; });
  for (std::int64_t i = 0; i < kTop; ++i) {
    const auto a = static_cast<std::size_t>(i);
    ASSERT_GT(v[order[a]] - v[order[a + 1]], 2 * diff)
        << "test data: the top values must be separated beyond the caches' difference";
  }

  const Product max = store.open("max");
  const auto game = max.root().dataset("examples/game").read_all<std::int64_t>();
  const auto position = max.root().dataset("examples/position").read_all<std::int64_t>();
  ASSERT_EQ(game.size(), static_cast<std::size_t>(kTop));
  const Product games_product = store.open("games");
  const games::GameBatch batch = games::GamesReader(games_product).read(0, kGames);
  std::vector<double> mean(64, 0.0);
  std::array<std::int8_t, 64> board{};
  for (std::size_t i = 0; i < game.size(); ++i) {
    const auto [g, t] = rows[order[i]];
    EXPECT_EQ(game[i], g) << i;
    EXPECT_EQ(position[i], t) << i;
    batch.board(static_cast<std::uint64_t>(g), static_cast<int>(t), games::Frame::MineTheirs, board,
                othello::MineTheirs::Real);
    for (std::size_t s = 0; s < 64; ++s) mean[s] += board[s];
  }
  for (auto& m : mean) m /= static_cast<double>(kTop);
  // Sums of integers are exact in double: the mean board is equal, not just close.
  EXPECT_EQ(max.root().dataset("mean_board").read_all<double>(), mean);
}

}  // namespace
}  // namespace othrun::gpt
