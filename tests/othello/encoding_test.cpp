// Square / token / label conversions (docs/games.md).
#include <othrun/othello.hpp>

#include <gtest/gtest.h>

#include <set>

namespace othrun::othello {
namespace {

TEST(Encoding, TokenRangesMapToSquares) {
  // squares 0..26 -> 1..27, 29..34 -> 28..33, 37..63 -> 34..60
  EXPECT_EQ(token_to_square(1), 0);
  EXPECT_EQ(token_to_square(27), 26);
  EXPECT_EQ(token_to_square(28), 29);
  EXPECT_EQ(token_to_square(33), 34);
  EXPECT_EQ(token_to_square(34), 37);
  EXPECT_EQ(token_to_square(60), 63);
}

TEST(Encoding, PaddingAndOutOfRangeTokensHaveNoSquare) {
  EXPECT_EQ(token_to_square(kPaddingToken), kNoSquare);
  EXPECT_EQ(token_to_square(61), kNoSquare);
  EXPECT_EQ(token_to_square(-1), kNoSquare);
}

TEST(Encoding, TokensAndSquaresRoundTrip) {
  std::set<int> squares;
  for (int token = 1; token <= kNumTokens; ++token) {
    const int square = token_to_square(token);
    ASSERT_TRUE(is_move_square(square)) << token;
    EXPECT_EQ(square_to_token(square), token);
    squares.insert(square);
  }
  EXPECT_EQ(squares.size(), 60u);
}

TEST(Encoding, CentreSquaresAreNotMoves) {
  for (int square : {27, 28, 35, 36}) {
    EXPECT_FALSE(is_move_square(square));
    EXPECT_EQ(square_to_token(square), -1);
  }
  EXPECT_EQ(square_to_token(64), -1);
  EXPECT_EQ(square_to_token(-1), -1);
}

TEST(Encoding, LabelsUseRowLetterAndColumnDigit) {
  EXPECT_EQ(square_label(0), "A0");
  EXPECT_EQ(square_label(7), "A7");
  EXPECT_EQ(square_label(32), "E0");
  EXPECT_EQ(square_label(63), "H7");
  EXPECT_THROW(square_label(64), std::out_of_range);
}

TEST(Encoding, LabelsParseBack) {
  for (int square = 0; square < kNumSquares; ++square) {
    EXPECT_EQ(parse_square_label(square_label(square)), square);
  }
  EXPECT_EQ(parse_square_label("e0"), 32);
  EXPECT_EQ(parse_square_label("I0"), std::nullopt);
  EXPECT_EQ(parse_square_label("A8"), std::nullopt);
  EXPECT_EQ(parse_square_label("A"), std::nullopt);
  EXPECT_EQ(parse_square_label("A00"), std::nullopt);
}

TEST(Encoding, SquareListsAreAscendingLabels) {
  EXPECT_EQ(squares_to_string(square_bit(44) | square_bit(19) | square_bit(26)), "C3 D2 F4");
  EXPECT_EQ(squares_to_string(0), "");
}

TEST(Encoding, MineTheirsNamesParse) {
  EXPECT_EQ(parse_mine_theirs("real"), MineTheirs::Real);
  EXPECT_EQ(parse_mine_theirs("parity"), MineTheirs::Parity);
  EXPECT_EQ(parse_mine_theirs("other"), std::nullopt);
  EXPECT_STREQ(to_string(MineTheirs::Parity), "parity");
}

}  // namespace
}  // namespace othrun::othello
