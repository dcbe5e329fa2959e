// Out-of-line parts of the Othello engine: labels, conversions for messages, unpacking, perft.
#include <othrun/othello.hpp>

#include <algorithm>
#include <stdexcept>

namespace othrun::othello {

namespace {
constexpr std::string_view kRowLetters = "ABCDEFGH";
}  // namespace

const char* to_string(Color color) {
  switch (color) {
    case Color::Black:
      return "black";
    case Color::White:
      return "white";
    case Color::None:
      break;
  }
  return "none";
}

std::string square_label(int square) {
  if (!is_square(square)) {
    throw std::out_of_range("square " + std::to_string(square) + " is outside 0..63");
  }
  return {kRowLetters[static_cast<std::size_t>(square / 8)], static_cast<char>('0' + square % 8)};
}

std::optional<int> parse_square_label(std::string_view label) {
  if (label.size() != 2) return std::nullopt;
  char letter = label[0];
  if (letter >= 'a' && letter <= 'h') letter = static_cast<char>(letter - 'a' + 'A');
  const auto row = kRowLetters.find(letter);
  const char digit = label[1];
  if (row == std::string_view::npos || digit < '0' || digit > '7') return std::nullopt;
  return static_cast<int>(row) * 8 + (digit - '0');
}

std::string squares_to_string(Bitboard squares) {
  std::string text;
  while (squares != 0) {
    if (!text.empty()) text += ' ';
    text += square_label(std::countr_zero(squares));
    squares &= squares - 1;
  }
  return text;
}

const char* to_string(MineTheirs convention) {
  return convention == MineTheirs::Parity ? "parity" : "real";
}

std::optional<MineTheirs> parse_mine_theirs(std::string_view text) {
  if (text == "real") return MineTheirs::Real;
  if (text == "parity") return MineTheirs::Parity;
  return std::nullopt;
}

void unpack(Bitboard plus, Bitboard minus, std::span<std::int8_t, kNumSquares> out) {
  for (int s = 0; s < kNumSquares; ++s) {
    const int bit_plus = static_cast<int>((plus >> s) & 1);
    const int bit_minus = static_cast<int>((minus >> s) & 1);
    out[static_cast<std::size_t>(s)] = static_cast<std::int8_t>(bit_plus - bit_minus);
  }
}

void unpack(Bitboard board, std::span<std::int8_t, kNumSquares> out) {
  for (int s = 0; s < kNumSquares; ++s) {
    out[static_cast<std::size_t>(s)] = static_cast<std::int8_t>((board >> s) & 1);
  }
}

namespace {

// One game being played by random_games.
struct Lane {
  Position position = Position::start();
  SplitMix64 rng{0};
  std::int8_t* squares = nullptr;
  int length = 0;
  bool live = false;
};

// Plays one ply of the lane's game; returns whether the game is over.
bool play_ply(Lane& lane) {
  const int square = random_square(lane.position.valid_moves(), lane.rng);
  lane.position.play(square);
  lane.squares[lane.length++] = static_cast<std::int8_t>(square);
  return lane.position.game_over();
}

}  // namespace

void random_games(std::uint64_t seed, std::uint64_t first, std::uint64_t count,
                  std::span<std::int8_t> squares) {
  if (squares.size() != count * kMaxGameLength) {
    throw std::invalid_argument("random_games: squares must hold count * 60 values");
  }
  std::fill(squares.begin(), squares.end(), std::int8_t{-1});
  std::uint64_t next = 0;
  const auto start = [&](Lane& lane) {
    lane.live = next < count;
    if (!lane.live) return;
    lane.position = Position::start();
    lane.rng = SplitMix64(game_seed(seed, first + next));
    lane.squares = squares.data() + next * kMaxGameLength;
    lane.length = 0;
    ++next;
  };
  std::array<Lane, 2> lanes;
  for (auto& lane : lanes) start(lane);
  while (lanes[0].live || lanes[1].live) {
    for (auto& lane : lanes) {
      if (lane.live && play_ply(lane)) start(lane);
    }
  }
}

std::uint64_t perft(Bitboard mover, Bitboard opponent, int depth) {
  if (depth <= 0) return 1;
  Bitboard moves = legal_moves(mover, opponent);
  if (moves == 0) {
    if (legal_moves(opponent, mover) == 0) return 1;  // game over: a leaf
    return perft(opponent, mover, depth - 1);         // a pass is a ply
  }
  std::uint64_t leaves = 0;
  if (depth == 1) return static_cast<std::uint64_t>(count(moves));
  while (moves != 0) {
    const int square = std::countr_zero(moves);
    moves &= moves - 1;
    const Bitboard flipped = flips(mover, opponent, square);
    leaves += perft(opponent & ~flipped, mover | flipped | square_bit(square), depth - 1);
  }
  return leaves;
}

}  // namespace othrun::othello
