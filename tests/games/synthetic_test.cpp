// Synthetic games: deterministic whatever the thread count, filters kept in candidate order.
#include <othrun/games.hpp>
#include <othrun/othello.hpp>

#include <gtest/gtest.h>

#include <set>

#include "synthetic.hpp"

namespace othrun::games_plugin {
namespace {

std::vector<std::int8_t> generate(SyntheticOptions options, std::uint64_t batch) {
  SyntheticSource source(options);
  std::vector<std::int8_t> all, part;
  for (std::uint64_t done = 0; done < options.games; done += batch) {
    source.next(std::min(batch, options.games - done), part);
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

TEST(Synthetic, SameGamesForAnyThreadCountAndBatchSize) {
  SyntheticOptions options{.seed = 11, .games = 3000, .threads = 1};
  const auto one = generate(options, 3000);
  options.threads = 2;
  EXPECT_EQ(generate(options, 3000), one);
  EXPECT_EQ(generate(options, 700), one);
  options.threads = 3;
  EXPECT_EQ(generate(options, 1024), one);
}

TEST(Synthetic, CandidateJIsGameSeedJ) {
  std::vector<std::int8_t> squares;
  play_candidates(5, 40, 2, 2, squares);
  std::array<std::int8_t, 60> expected{};
  expected.fill(-1);
  othello::SplitMix64 rng(othello::game_seed(5, 41));
  othello::random_game(rng, expected);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), squares.begin() + 60));
}

TEST(Synthetic, DifferentSeedsDifferentGames) {
  const auto a = generate({.seed = 1, .games = 50}, 50);
  const auto b = generate({.seed = 2, .games = 50}, 50);
  EXPECT_NE(a, b);
}

TEST(Synthetic, EveryGameIsLegalAndPlayedToTheEnd) {
  const auto squares = generate({.seed = 3, .games = 500, .threads = 2}, 500);
  const auto batch = games::replay(squares, 0, othello::MineTheirs::Real);
  for (std::uint64_t g = 0; g < batch.count; ++g) {
    EXPECT_EQ(batch.to_move[games::GameBatch::index(g, batch.length(g) - 1)], 0) << g;
  }
}

TEST(Synthetic, FullGamesOnlyKeepsTheFullCandidatesInOrder) {
  const SyntheticOptions all{.seed = 4, .games = 400};
  SyntheticOptions full = all;
  full.full_games_only = true;
  const auto unfiltered = generate(all, 400);
  const auto filtered = generate(full, 400);
  std::vector<std::int8_t> expected;
  for (std::size_t g = 0; g < 400 && expected.size() < filtered.size(); ++g) {
    if (unfiltered[g * 60 + 59] >= 0) {
      expected.insert(expected.end(), unfiltered.begin() + g * 60,
                      unfiltered.begin() + g * 60 + 60);
    }
  }
  ASSERT_EQ(filtered.size(), 400u * 60u);
  for (std::size_t g = 0; g < 400; ++g) EXPECT_GE(filtered[g * 60 + 59], 0);
  // The first kept games are exactly the full ones among the unfiltered candidates.
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), filtered.begin()));
}

TEST(Synthetic, UniqueDropsRepeats) {
  SyntheticOptions options{.seed = 6, .games = 2000, .unique = true, .threads = 2};
  const auto squares = generate(options, 2000);
  std::set<std::vector<std::int8_t>> distinct;
  for (std::size_t g = 0; g < 2000; ++g) {
    distinct.emplace(squares.begin() + g * 60, squares.begin() + g * 60 + 60);
  }
  EXPECT_EQ(distinct.size(), 2000u);
}

}  // namespace
}  // namespace othrun::games_plugin
