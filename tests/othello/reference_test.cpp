// Cross-checks the bitboard engine against a naive square-by-square board on many random games:
// boards, valid moves, flips and the side to move must agree after every ply.
#include <othrun/othello.hpp>

#include <gtest/gtest.h>

#include "reference_board.hpp"

namespace othrun::othello {
namespace {

Bitboard to_bitboard(const std::vector<int>& squares) {
  Bitboard board = 0;
  for (int s : squares) board |= square_bit(s);
  return board;
}

Bitboard cells_of(const test::ReferenceBoard& board, int color) {
  Bitboard bits = 0;
  for (int s = 0; s < kNumSquares; ++s) {
    if (board.cell(s) == color) bits |= square_bit(s);
  }
  return bits;
}

// The reference's side to move after pass resolution, 0 when the game is over.
int reference_to_move(const test::ReferenceBoard& board) {
  if (!board.legal_for(board.next_color()).empty()) return board.next_color();
  if (!board.legal_for(-board.next_color()).empty()) return -board.next_color();
  return 0;
}

void expect_same(const Position& position, const test::ReferenceBoard& reference, int ply) {
  ASSERT_EQ(position.black(), cells_of(reference, 1)) << "ply " << ply;
  ASSERT_EQ(position.white(), cells_of(reference, -1)) << "ply " << ply;
  ASSERT_EQ(position.valid_moves(), to_bitboard(reference.valid_moves())) << "ply " << ply;
  ASSERT_EQ(value(position.to_move()), reference_to_move(reference)) << "ply " << ply;
}

TEST(ReferenceCheck, RandomGamesAgreePlyByPly) {
  SplitMix64 rng(12345);
  int games_with_pass = 0;
  int short_games = 0;
  for (int game = 0; game < 3000; ++game) {
    Position position = Position::start();
    test::ReferenceBoard reference;
    int ply = 0;
    bool passed = false;
    while (!position.game_over()) {
      const auto valid = reference.valid_moves();
      const int square = valid[rng.below(static_cast<std::uint32_t>(valid.size()))];
      const Color mover = position.to_move();
      const Bitboard flipped = position.play(square);
      ASSERT_EQ(flipped, to_bitboard(reference.play(square))) << "game " << game << " ply " << ply;
      passed = passed || position.to_move() == mover;
      expect_same(position, reference, ply);
      ++ply;
    }
    ASSERT_TRUE(reference.valid_moves().empty());
    games_with_pass += passed ? 1 : 0;
    short_games += ply < kMaxGameLength ? 1 : 0;
  }
  // The sample must exercise passes and early ends, or the check proves little.
  EXPECT_GT(games_with_pass, 10);
  EXPECT_GT(short_games, 10);
}

TEST(ReferenceCheck, RandomGameIsLegalForTheReference) {
  for (std::uint64_t index = 0; index < 500; ++index) {
    SplitMix64 rng(game_seed(7, index));
    std::array<std::int8_t, kMaxGameLength> squares{};
    const int length = random_game(rng, squares);
    test::ReferenceBoard reference;
    for (int ply = 0; ply < length; ++ply) {
      ASSERT_FALSE(reference.play(squares[static_cast<std::size_t>(ply)]).empty())
          << "game " << index << " ply " << ply;
    }
    EXPECT_TRUE(reference.valid_moves().empty()) << "game " << index << " ended early";
  }
}

TEST(ReferenceCheck, NineMoveWipeoutAgrees) {
  test::ReferenceBoard reference;
  for (int square : {19, 18, 17, 11, 4, 43, 51, 20, 29}) {
    ASSERT_FALSE(reference.play(square).empty()) << square;
  }
  EXPECT_TRUE(reference.valid_moves().empty());
  EXPECT_EQ(cells_of(reference, -1), 0u);
}

TEST(RandomGames, SameSeedSameGame) {
  std::array<std::int8_t, kMaxGameLength> first{}, second{};
  SplitMix64 a(game_seed(1, 42)), b(game_seed(1, 42));
  const int length = random_game(a, first);
  EXPECT_EQ(random_game(b, second), length);
  EXPECT_EQ(first, second);
}

TEST(RandomGames, BelowIsInRangeAndCoversIt) {
  SplitMix64 rng(3);
  std::array<int, 7> seen{};
  for (int i = 0; i < 7000; ++i) {
    const auto value = rng.below(7);
    ASSERT_LT(value, 7u);
    ++seen[value];
  }
  for (int hits : seen) EXPECT_GT(hits, 800);
}

TEST(RandomGames, NthSquareCountsAscending) {
  const Bitboard board = square_bit(3) | square_bit(17) | square_bit(60);
  EXPECT_EQ(nth_square(board, 0), 3);
  EXPECT_EQ(nth_square(board, 1), 17);
  EXPECT_EQ(nth_square(board, 2), 60);
}

}  // namespace
}  // namespace othrun::othello
