// games::replay against the ground truth of the fixture script's independent Python Othello, and
// its messages for invalid games.
#include <othrun/error.hpp>
#include <othrun/games.hpp>
#include <othrun/npy.hpp>

#include <gtest/gtest.h>

#include "temp_dir.hpp"

namespace othrun::games {
namespace {

using othello::Color;
using othello::MineTheirs;

// The fixture games as squares [8, 60], -1 padded (the string file pads with -1).
std::vector<std::int8_t> fixture_squares() {
  return npy::Reader(test::fixture("string_i8_v1.npy")).read_all<std::int8_t>();
}

TEST(Replay, MatchesThePythonReference) {
  const auto squares = fixture_squares();
  const GameBatch batch = replay(squares, 0, MineTheirs::Real);
  const auto states = npy::Reader(test::fixture("expected_states.npy")).read_all<std::int8_t>();
  const auto valid = npy::Reader(test::fixture("expected_valid.npy")).read_all<std::int8_t>();
  const auto lengths = npy::Reader(test::fixture("expected_lengths.npy")).read_all<std::int64_t>();
  ASSERT_EQ(batch.count, 8u);
  EXPECT_EQ(batch.boards(Frame::BlackWhite), states);
  for (std::uint64_t g = 0; g < batch.count; ++g) {
    EXPECT_EQ(batch.length(g), lengths[g]);
    for (int t = 0; t < batch.length(g); ++t) {
      std::array<std::int8_t, 64> one_hot{};
      othello::unpack(batch.valid[GameBatch::index(g, t)], one_hot);
      const auto* expected = valid.data() + GameBatch::index(g, t) * 64;
      ASSERT_TRUE(std::equal(one_hot.begin(), one_hot.end(), expected)) << g << ", " << t;
    }
  }
}

TEST(Replay, FixturesIncludePassesAndEarlyEnds) {
  const GameBatch batch = replay(fixture_squares(), 0, MineTheirs::Real);
  int passes = 0, early_ends = 0;
  for (std::uint64_t g = 0; g < batch.count; ++g) {
    early_ends += batch.length(g) < 60 ? 1 : 0;
    for (int t = 1; t < batch.length(g); ++t) {
      passes += batch.mover[GameBatch::index(g, t)] == batch.mover[GameBatch::index(g, t - 1)];
    }
  }
  EXPECT_GE(passes, 2);
  EXPECT_GE(early_ends, 2);
}

TEST(Replay, PaddingAfterTheEnd) {
  const GameBatch batch = replay(fixture_squares(), 0, MineTheirs::Real);
  const std::uint64_t g = 7;  // a 59-move game
  ASSERT_EQ(batch.length(g), 59);
  const std::size_t last = GameBatch::index(g, 59);
  EXPECT_EQ(batch.tokens[last], 0);
  EXPECT_EQ(batch.squares[last], -1);
  EXPECT_EQ(batch.black[last] | batch.white[last] | batch.valid[last], 0u);
  EXPECT_EQ(batch.to_move[last], 0);
  EXPECT_EQ(batch.to_move[GameBatch::index(g, 58)], 0);  // game over after its last move
}

TEST(Replay, RecordsEverythingAboutAMove) {
  const std::vector<std::int8_t> squares = [] {
    std::vector<std::int8_t> game(60, -1);
    game[0] = 19;  // C3
    game[1] = 18;  // C2
    return game;
  }();
  const GameBatch batch = replay(squares, 5, MineTheirs::Real);
  EXPECT_EQ(batch.first, 5u);
  EXPECT_EQ(batch.length(0), 2);
  EXPECT_EQ(batch.tokens[0], 20);
  EXPECT_EQ(batch.tokens[1], 19);
  EXPECT_EQ(batch.flipped[0], othello::square_bit(27));
  EXPECT_EQ(batch.mover[0], 1);
  EXPECT_EQ(batch.to_move[0], -1);
  EXPECT_EQ(batch.mine[0], -1);  // white moves next: white is "mine"
  EXPECT_EQ(batch.mover[1], -1);
  EXPECT_EQ(batch.mine[1], 1);
  EXPECT_EQ(batch.position(0, 0).valid_moves(), batch.valid[0]);
}

TEST(Replay, ParityAndRealDifferAfterAPass) {
  const auto squares = fixture_squares();
  const GameBatch real = replay(squares, 0, MineTheirs::Real);
  const GameBatch parity = replay(squares, 0, MineTheirs::Parity);
  int differences = 0;
  for (std::size_t i = 0; i < real.mine.size(); ++i) {
    if (real.squares[i] < 0) continue;
    const int t = static_cast<int>(i % 60);
    EXPECT_EQ(parity.mine[i], t % 2 == 0 ? -1 : 1);
    differences += real.mine[i] != parity.mine[i];
  }
  EXPECT_GT(differences, 0);
  // The mine/theirs frame flips the black/white one where "mine" is white.
  std::array<std::int8_t, 64> bw{}, mt{};
  real.board(0, 0, Frame::BlackWhite, bw);
  real.board(0, 0, Frame::MineTheirs, mt);
  for (int s = 0; s < 64; ++s) EXPECT_EQ(mt[s], -bw[s]);
}

std::string replay_error(std::vector<std::int8_t> squares, std::uint64_t first = 0) {
  try {
    replay(squares, first, MineTheirs::Real, 2);
  } catch (const DataError& error) {
    return error.what();
  }
  return "no error";
}

TEST(Replay, IllegalMoveNamesGamePlyAndSquare) {
  auto squares = fixture_squares();
  squares[60 + 5] = 0;      // game 1, ply 5: A0
  squares[3 * 60 + 2] = 0;  // a later error is not the one reported
  const std::string message = replay_error(squares, 100);
  EXPECT_EQ(message.rfind("game 101, ply 5: A0 is not a valid move (", 0), 0u) << message;
}

TEST(Replay, ExactMessages) {
  std::vector<std::int8_t> game(60, -1);
  game[0] = 0;
  EXPECT_EQ(replay_error(game),
            "game 0, ply 0: A0 is not a valid move (black to move; valid: C3 "
            "D2 E5 F4)");
  game[0] = 27;
  EXPECT_EQ(replay_error(game),
            "game 0, ply 0: D3 is not a valid move (black to move; valid: C3 "
            "D2 E5 F4)");
  game[0] = 70;
  EXPECT_EQ(replay_error(game), "game 0, ply 0: square 70 is outside 0..63");
  game[0] = -1;
  EXPECT_EQ(replay_error(game), "game 0, ply 0: the game has no moves");
  game[0] = 19;
  game[2] = 18;
  EXPECT_EQ(replay_error(game),
            "game 0, ply 2: a move after the end of the record (ply 1 is "
            "padding)");
  // The nine-move wipeout, then one more move.
  const std::vector<int> wipeout = {19, 18, 17, 11, 4, 43, 51, 20, 29, 0};
  for (std::size_t i = 0; i < wipeout.size(); ++i) game[i] = static_cast<std::int8_t>(wipeout[i]);
  EXPECT_EQ(replay_error(game),
            "game 0, ply 9: A0 is played after the game ended (neither side "
            "can move)");
}

TEST(Replay, SameResultOnOneAndTwoThreads) {
  const auto squares = fixture_squares();
  const GameBatch one = replay(squares, 0, MineTheirs::Real, 1);
  const GameBatch two = replay(squares, 0, MineTheirs::Real, 2);
  EXPECT_EQ(one.black, two.black);
  EXPECT_EQ(one.valid, two.valid);
  EXPECT_EQ(one.mine, two.mine);
}

}  // namespace
}  // namespace othrun::games
