// The bitboard engine on perft counts and hand-checked positions (passes, early ends).
#include <othrun/othello.hpp>

#include <gtest/gtest.h>

#include <array>

namespace othrun::othello {
namespace {

Bitboard squares(std::initializer_list<int> list) {
  Bitboard board = 0;
  for (int s : list) board |= square_bit(s);
  return board;
}

// The engine also runs at compile time (on the scalar move generator).
static_assert(Position::start().valid_moves() ==
              (square_bit(19) | square_bit(26) | square_bit(37) | square_bit(44)));
static_assert(flips(square_bit(35), square_bit(27), 19) == square_bit(27));

TEST(Engine, StartPosition) {
  const Position start = Position::start();
  EXPECT_EQ(start.at(27), Color::White);  // (3,3)
  EXPECT_EQ(start.at(28), Color::Black);  // (3,4)
  EXPECT_EQ(start.at(35), Color::Black);  // (4,3)
  EXPECT_EQ(start.at(36), Color::White);  // (4,4)
  EXPECT_EQ(start.to_move(), Color::Black);
  EXPECT_EQ(squares_to_string(start.valid_moves()), "C3 D2 E5 F4");
}

TEST(Engine, PerftFromStartToDepth8) {
  constexpr std::array<std::uint64_t, 8> kExpected = {4, 12, 56, 244, 1396, 8200, 55092, 390216};
  const Position start = Position::start();
  for (int depth = 1; depth <= 8; ++depth) {
    EXPECT_EQ(perft(start.black(), start.white(), depth), kExpected[depth - 1]) << depth;
  }
}

TEST(Engine, VectorAndScalarGeneratorsAgree) {
  SplitMix64 rng(77);
  for (int game = 0; game < 300; ++game) {
    Position position = Position::start();
    while (!position.game_over()) {
      const Bitboard black = position.black(), white = position.white();
      ASSERT_EQ(legal_moves(black, white), detail::legal_moves_scalar(black, white));
      ASSERT_EQ(legal_moves(white, black), detail::legal_moves_scalar(white, black));
      const int square = random_square(position.valid_moves(), rng);
      const Bitboard mover = position.to_move() == Color::Black ? black : white;
      ASSERT_EQ(flips(mover, black ^ white ^ mover, square),
                detail::flips_scalar(mover, black ^ white ^ mover, square));
      position.play(square);
    }
  }
}

TEST(Engine, FirstMoveFlipsAndHandsOverToWhite) {
  Position position = Position::start();
  const Bitboard flipped = position.play(19);  // C3 flips D3
  EXPECT_EQ(flipped, square_bit(27));
  EXPECT_EQ(position.black(), squares({19, 27, 28, 35}));
  EXPECT_EQ(position.white(), squares({36}));
  EXPECT_EQ(position.to_move(), Color::White);
  EXPECT_EQ(squares_to_string(position.valid_moves()), "C2 C4 E2");
}

TEST(Engine, InvalidMoveChangesNothing) {
  Position position = Position::start();
  const Position before = position;
  EXPECT_EQ(position.play(0), 0u);   // A0: flips nothing
  EXPECT_EQ(position.play(27), 0u);  // occupied
  EXPECT_EQ(position.play(64), 0u);  // not a square
  EXPECT_EQ(position, before);
}

TEST(Engine, MoveFlipsSeveralLinesAtOnce) {
  // Black D3 (27) closes three lines: D4 (row), E3 (column) and E4 (diagonal).
  const Bitboard black = squares({29, 43, 45});
  const Bitboard white = squares({28, 35, 36});
  EXPECT_EQ(flips(black, white, 27), squares({28, 35, 36}));
  EXPECT_EQ(flips(white, black, 27), 0u);
}

TEST(Engine, HorizontalRunsDoNotWrapAcrossRows) {
  // Black A7 (7), white B0 (8), black B1 (9): A7 -> B0 is one square on, but not a line.
  const Bitboard black = squares({9});
  const Bitboard white = squares({8});
  EXPECT_EQ(flips(black, white, 7), 0u);
  EXPECT_EQ(legal_moves(black, white) & square_bit(7), 0u);
}

TEST(Engine, ImplicitPassKeepsTheSameSideToMove) {
  // Row A: black A0, white A1; row H: black H0, white H1. Black A2 flips A1; white then has no
  // move (its only disc H1 is closed by nothing), so black moves again: H2.
  Position position(squares({0, 56}), squares({1, 57}), Color::Black);
  EXPECT_EQ(squares_to_string(position.valid_moves()), "A2 H2");
  EXPECT_EQ(position.play(2), squares({1}));
  EXPECT_EQ(position.to_move(), Color::Black);
  EXPECT_EQ(squares_to_string(position.valid_moves()), "H2");
  EXPECT_EQ(real_mine(position.to_move(), Color::Black), Color::Black);
  EXPECT_EQ(parity_mine(0), Color::White);  // the notebook convention is wrong here

  EXPECT_EQ(position.play(58), squares({57}));
  EXPECT_TRUE(position.game_over());
  EXPECT_EQ(position.valid_moves(), 0u);
  EXPECT_EQ(position.black(), squares({0, 1, 2, 56, 57, 58}));
  EXPECT_EQ(position.white(), 0u);
  // At the end nobody moves; "mine" is the opponent of the last mover.
  EXPECT_EQ(real_mine(position.to_move(), Color::Black), Color::White);
}

TEST(Engine, SideToMoveWithoutMovesPassesOnConstruction) {
  // White to move but white has no move; black has A2 and H2.
  Position position(squares({0, 56}), squares({1, 57}), Color::White);
  EXPECT_EQ(position.to_move(), Color::Black);
  EXPECT_EQ(squares_to_string(position.valid_moves()), "A2 H2");
}

TEST(Engine, GameEndsEarlyWhenNeitherSideCanMove) {
  // Black A0, white A1 and A2, empty A3: white cannot move (A0 is on the edge), black A3 flips
  // both, after which white has no disc.
  Position position(squares({0}), squares({1, 2}), Color::White);
  EXPECT_EQ(position.to_move(), Color::Black);
  EXPECT_EQ(position.play(3), squares({1, 2}));
  EXPECT_TRUE(position.game_over());
  EXPECT_EQ(position.to_move(), Color::None);
  EXPECT_EQ(count(position.black() | position.white()), 4);
}

TEST(Engine, NineMoveWipeout) {
  // The shortest possible game: after 9 plies white has no disc left. Checked move by move.
  Position position = Position::start();
  // C3 C2 C1 B3 A4 F3 G3 C4 D5
  const std::array<int, 9> moves = {19, 18, 17, 11, 4, 43, 51, 20, 29};
  for (std::size_t i = 0; i < moves.size(); ++i) {
    ASSERT_TRUE(position.is_valid(moves[i])) << i;
    position.play(moves[i]);
  }
  EXPECT_TRUE(position.game_over());
  EXPECT_EQ(position.white(), 0u);
  EXPECT_EQ(count(position.black()), 13);
}

TEST(Engine, GameIsOverWhenOneColourIsGone) {
  // Black everywhere but H7, no white disc: nobody can close a line.
  Position position(~square_bit(63), 0, Color::White);
  EXPECT_TRUE(position.game_over());
  EXPECT_EQ(position.valid_moves(), 0u);
}

}  // namespace
}  // namespace othrun::othello
