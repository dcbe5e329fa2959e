// The Othello engine: bitboards, legal moves, flips, implicit passes and the square/token/label
// encodings of the Othello-GPT notebooks (docs/games.md).
//
// Square s = row * 8 + col; bit s of a Bitboard (the value 1 << s) is square s. Its label is
// "ABCDEFGH"[row] followed by the column digit 0..7, so "E0" is square 32. Black (+1) moves first.
// Passes are implicit: a Position always names the side that really moves next.
//
// The move generator works on whole bitboards (per-direction shifts), never square by square, and
// the hot functions are inline so that generation loops in plugins compile to straight-line code.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace othrun::othello {

using Bitboard = std::uint64_t;

inline constexpr int kNumSquares = 64;
inline constexpr int kMaxGameLength = 60;  // 64 squares minus the 4 occupied at the start
inline constexpr int kNumTokens = 60;      // model tokens 1..60; 0 is padding
inline constexpr int kPaddingToken = 0;
inline constexpr int kNoSquare = -1;

// Cell values as in the notebooks: +1 black, -1 white, 0 empty (or "nobody" for a side to move).
enum class Color : std::int8_t { White = -1, None = 0, Black = 1 };

constexpr Color opponent(Color color) { return static_cast<Color>(-static_cast<int>(color)); }
constexpr int value(Color color) { return static_cast<int>(color); }
const char* to_string(Color color);  // "black", "white", "none"

constexpr Bitboard square_bit(int square) { return Bitboard{1} << square; }
constexpr int count(Bitboard board) { return std::popcount(board); }

// The four centre squares 27, 28, 35, 36 are occupied from the start and never a move.
inline constexpr Bitboard kCenter =
    square_bit(27) | square_bit(28) | square_bit(35) | square_bit(36);
constexpr bool is_square(int square) { return square >= 0 && square < kNumSquares; }
constexpr bool is_move_square(int square) {
  return is_square(square) && (kCenter & square_bit(square)) == 0;
}

// ---- encodings --------------------------------------------------------------------------------

// Token 1..60 -> square, kNoSquare for anything else (including padding 0).
constexpr int token_to_square(int token) {
  if (token < 1 || token > kNumTokens) return kNoSquare;
  int square = token - 1;
  if (square >= 27) square += 2;  // skip 27, 28
  if (square >= 35) square += 2;  // skip 35, 36
  return square;
}
// Square -> token 1..60, or -1 for a centre square or a value outside 0..63.
constexpr int square_to_token(int square) {
  if (!is_move_square(square)) return -1;
  return square + 1 - (square > 28 ? 2 : 0) - (square > 36 ? 2 : 0);
}
// "E0" for 32. Throws std::out_of_range for a value outside 0..63.
std::string square_label(int square);
// Parses "E0" (or "e0") -> 32; nullopt for anything that is not a label.
std::optional<int> parse_square_label(std::string_view label);
// "C3 D2 E5" (ascending squares): for messages.
std::string squares_to_string(Bitboard squares);

// ---- move generation ---------------------------------------------------------------------------

namespace detail {
inline constexpr Bitboard kNotEdgeColumns = 0x7e7e7e7e7e7e7e7eULL;

// Shifts by `amount` squares (positive: towards higher squares).
template <int kAmount>
constexpr Bitboard shift(Bitboard board) {
  if constexpr (kAmount > 0) {
    return board << kAmount;
  } else {
    return board >> -kAmount;
  }
}

// Squares reached from `mover` by a run of `runs` discs in direction kStep, one past the run.
// `runs` is the opponent masked so that a horizontal or diagonal run never wraps across a row:
// a disc flanked along such a line cannot sit on column 0 or 7.
template <int kStep>
constexpr Bitboard beyond_runs(Bitboard mover, Bitboard runs) {
  Bitboard run = runs & shift<kStep>(mover);
  run |= runs & shift<kStep>(run);
  const Bitboard pairs = runs & shift<kStep>(runs);
  run |= pairs & shift<2 * kStep>(run);
  run |= pairs & shift<2 * kStep>(run);
  return shift<kStep>(run);
}

// kRays[s][d]: the squares seen from square s in direction d, up to the board's edge. Directions
// 0..3 (+1, +7, +8, +9) go to higher squares, 4..7 (-1, -7, -8, -9) to lower ones.
inline constexpr auto kRays = [] {
  constexpr int kRowStep[8] = {0, 1, 1, 1, 0, -1, -1, -1};
  constexpr int kColStep[8] = {1, -1, 0, 1, -1, 1, 0, -1};
  std::array<std::array<Bitboard, 8>, kNumSquares> rays{};
  for (int s = 0; s < kNumSquares; ++s) {
    for (int d = 0; d < 8; ++d) {
      int row = s / 8 + kRowStep[d], col = s % 8 + kColStep[d];
      for (; row >= 0 && row < 8 && col >= 0 && col < 8; row += kRowStep[d], col += kColStep[d]) {
        rays[static_cast<std::size_t>(s)][static_cast<std::size_t>(d)] |= Bitboard{1}
                                                                          << (row * 8 + col);
      }
    }
  }
  return rays;
}();

// All ones when `condition`, else zero: a branch-free select.
constexpr Bitboard mask_if(bool condition) {
  return Bitboard{0} - static_cast<Bitboard>(condition);
}

// Flips along a ray towards higher squares: the first square that is not the opponent's is the
// ray's lowest such bit; the run before it flips when that square is the mover's.
constexpr Bitboard flips_up(Bitboard ray, Bitboard mover, Bitboard opponent) {
  const Bitboard stops = ray & ~opponent;
  const Bitboard first = stops & (Bitboard{0} - stops);
  return (first - 1) & ray & mask_if((first & mover) != 0);
}

// The same towards lower squares, where the first stop is the ray's highest such bit. `| 1` keeps
// the bit scan defined; a stop found that way lies outside the ray unless square 0 is in it.
constexpr Bitboard flips_down(Bitboard ray, Bitboard mover, Bitboard opponent) {
  const Bitboard stops = (ray & ~opponent) | 1;
  const Bitboard first = Bitboard{1} << (63 - std::countl_zero(stops));
  return ray & ~((first << 1) - 1) & mask_if((first & ray & mover) != 0);
}

// Two bitboards in one SSE2 (or NEON) register: a GCC/Clang vector extension, no intrinsics.
using BitboardPair = Bitboard __attribute__((vector_size(16)));

// beyond_runs on both lanes at once; the step is always towards higher squares.
template <int kStep>
inline BitboardPair beyond_runs(BitboardPair mover, BitboardPair runs) {
  BitboardPair run = runs & (mover << kStep);
  run |= runs & (run << kStep);
  const BitboardPair pairs = runs & (runs << kStep);
  run |= pairs & (run << (2 * kStep));
  run |= pairs & (run << (2 * kStep));
  return run << kStep;
}

// Scalar legal moves, for constant evaluation.
constexpr Bitboard legal_moves_scalar(Bitboard mover, Bitboard opponent) {
  const Bitboard inner = opponent & kNotEdgeColumns;
  const Bitboard reach = beyond_runs<1>(mover, inner) | beyond_runs<-1>(mover, inner) |
                         beyond_runs<8>(mover, opponent) | beyond_runs<-8>(mover, opponent) |
                         beyond_runs<7>(mover, inner) | beyond_runs<-7>(mover, inner) |
                         beyond_runs<9>(mover, inner) | beyond_runs<-9>(mover, inner);
  return reach & ~(mover | opponent);
}

// Lane 1 holds the board flipped upside down (a byte swap), where the steps +7, +8, +9 are the
// original -9, -8, -7: three vector passes cover six directions; +1 and -1 stay scalar and run on
// the integer units alongside.
inline Bitboard legal_moves_vector(Bitboard mover, Bitboard opponent) {
  const Bitboard inner = opponent & kNotEdgeColumns;
  const BitboardPair movers = {mover, __builtin_bswap64(mover)};
  const BitboardPair opponents = {opponent, __builtin_bswap64(opponent)};
  const BitboardPair inners = opponents & kNotEdgeColumns;
  const BitboardPair vertical = beyond_runs<7>(movers, inners) | beyond_runs<8>(movers, opponents) |
                                beyond_runs<9>(movers, inners);
  const Bitboard horizontal = beyond_runs<1>(mover, inner) | beyond_runs<-1>(mover, inner);
  return (horizontal | vertical[0] | __builtin_bswap64(vertical[1])) & ~(mover | opponent);
}
}  // namespace detail

// Legal moves of `mover` against `opponent`: empty squares that close at least one line.
[[gnu::always_inline]] constexpr Bitboard legal_moves(Bitboard mover, Bitboard opponent) {
  if (std::is_constant_evaluated()) return detail::legal_moves_scalar(mover, opponent);
  return detail::legal_moves_vector(mover, opponent);
}

namespace detail {
// Scalar flips along the eight rays, for constant evaluation.
constexpr Bitboard flips_scalar(Bitboard mover, Bitboard opponent, int square) {
  const auto& rays = kRays[static_cast<std::size_t>(square)];
  return flips_up(rays[0], mover, opponent) | flips_up(rays[1], mover, opponent) |
         flips_up(rays[2], mover, opponent) | flips_up(rays[3], mover, opponent) |
         flips_down(rays[4], mover, opponent) | flips_down(rays[5], mover, opponent) |
         flips_down(rays[6], mover, opponent) | flips_down(rays[7], mover, opponent);
}

// flips_up without a comparison, so that it also runs on vector lanes (SSE2 has no 64-bit
// compare): with f = first & mover (0, or the single bit `first`), t = f - 1 is the run's mask
// when f != 0 and all ones (sign bit set) when f == 0; (t >> 63) - 1 clears the latter.
template <class Board>
inline Board flips_up_select(Board ray, Board mover, Board opponent) {
  const Board stops = ray & ~opponent;
  const Board first = stops & (Board{} - stops);
  const Board t = (first & mover) - 1;
  return ray & t & ((t >> 63) - 1);
}

// As legal_moves_vector: lane 1 is the byte-swapped board, where the rays +7, +8, +9 of the
// mirrored square (s ^ 56) are the original -9, -8, -7. Six rays on three vector passes, +1 and -1
// on the integer units.
inline Bitboard flips_vector(Bitboard mover, Bitboard opponent, int square) {
  const auto& rays = kRays[static_cast<std::size_t>(square)];
  const auto& mirrored = kRays[static_cast<std::size_t>(square ^ 56)];
  const BitboardPair movers = {mover, __builtin_bswap64(mover)};
  const BitboardPair opponents = {opponent, __builtin_bswap64(opponent)};
  const BitboardPair vertical =
      flips_up_select(BitboardPair{rays[1], mirrored[1]}, movers, opponents) |
      flips_up_select(BitboardPair{rays[2], mirrored[2]}, movers, opponents) |
      flips_up_select(BitboardPair{rays[3], mirrored[3]}, movers, opponents);
  return vertical[0] | __builtin_bswap64(vertical[1]) | flips_up_select(rays[0], mover, opponent) |
         flips_down(rays[4], mover, opponent);
}
}  // namespace detail

// Opponent discs flipped by `mover` playing `square`. 0 when the move flips nothing (illegal).
// The square itself must be empty; that is the caller's check (legal_moves includes it).
[[gnu::always_inline]] constexpr Bitboard flips(Bitboard mover, Bitboard opponent, int square) {
  if (std::is_constant_evaluated()) return detail::flips_scalar(mover, opponent, square);
  return detail::flips_vector(mover, opponent, square);
}

// ---- positions ---------------------------------------------------------------------------------

// A board and the side that really moves next (passes resolved), with its valid moves cached.
class Position {
 public:
  // The start: (3,3) and (4,4) white, (3,4) and (4,3) black, black to move.
  static constexpr Position start() {
    return Position(square_bit(28) | square_bit(35), square_bit(27) | square_bit(36), Color::Black);
  }

  // Any board. `to_move` is who would move without passes: if that side has no legal move the
  // opponent moves; if neither can, the game is over (to_move() == None).
  constexpr Position(Bitboard black, Bitboard white, Color to_move) : black_(black), white_(white) {
    resolve(to_move == Color::None ? Color::Black : to_move);
  }

  constexpr Bitboard black() const { return black_; }
  constexpr Bitboard white() const { return white_; }
  constexpr Bitboard empty() const { return ~(black_ | white_); }
  constexpr Bitboard discs(Color color) const {
    return color == Color::Black ? black_ : color == Color::White ? white_ : empty();
  }
  constexpr Color at(int square) const {
    const Bitboard bit = square_bit(square);
    return (black_ & bit) ? Color::Black : (white_ & bit) ? Color::White : Color::None;
  }

  // The side that moves next; None once neither side can move.
  constexpr Color to_move() const { return to_move_; }
  constexpr bool game_over() const { return to_move_ == Color::None; }
  // othello_world's get_valid_moves(): the side to move's legal moves, the opponent's after a pass,
  // empty at the end of the game.
  constexpr Bitboard valid_moves() const { return valid_; }
  constexpr bool is_valid(int square) const {
    return is_square(square) && (valid_ & square_bit(square)) != 0;
  }

  // Plays `square` for the side to move and returns the discs it flipped. Returns 0 and leaves the
  // position unchanged when the move is not valid.
  constexpr Bitboard play(int square) {
    if (!is_valid(square)) return 0;
    const bool black_moves = to_move_ == Color::Black;
    Bitboard& mine = black_moves ? black_ : white_;
    Bitboard& theirs = black_moves ? white_ : black_;
    const Bitboard flipped = flips(mine, theirs, square);
    mine |= flipped | square_bit(square);
    theirs &= ~flipped;
    resolve(opponent(to_move_));
    return flipped;
  }

  friend constexpr bool operator==(const Position&, const Position&) = default;

 private:
  // Sets the side to move to `preferred` if it can move, else to its opponent, else None.
  constexpr void resolve(Color preferred) {
    const Bitboard preferred_discs = preferred == Color::Black ? black_ : white_;
    const Bitboard other_discs = preferred == Color::Black ? white_ : black_;
    valid_ = legal_moves(preferred_discs, other_discs);
    if (valid_ != 0) {
      to_move_ = preferred;
      return;
    }
    valid_ = legal_moves(other_discs, preferred_discs);
    to_move_ = valid_ != 0 ? opponent(preferred) : Color::None;
  }

  Bitboard black_ = 0;
  Bitboard white_ = 0;
  Bitboard valid_ = 0;
  Color to_move_ = Color::None;
};

// ---- mine / theirs -----------------------------------------------------------------------------

// Which player is "mine" after move t (t = 0 is the first move).
enum class MineTheirs : std::int8_t {
  Real,    // the player who really moves next (after passes); at the game end, the opponent of
           // the player who made the last move
  Parity,  // the notebooks' `state * (-1 if t even else +1)`: white after an even t, black after
           // an odd t, whatever the passes
};

const char* to_string(MineTheirs convention);  // "real", "parity"
std::optional<MineTheirs> parse_mine_theirs(std::string_view text);

constexpr Color parity_mine(int t) { return t % 2 == 0 ? Color::White : Color::Black; }
// `to_move`: the real side to move after the move; `mover`: who played it.
constexpr Color real_mine(Color to_move, Color mover) {
  return to_move != Color::None ? to_move : opponent(mover);
}
constexpr Color mine_color(MineTheirs convention, int t, Color to_move, Color mover) {
  return convention == MineTheirs::Parity ? parity_mine(t) : real_mine(to_move, mover);
}

// ---- per-square states -------------------------------------------------------------------------

// out[s] = +1 where `plus` has square s, -1 where `minus` has it, else 0.
void unpack(Bitboard plus, Bitboard minus, std::span<std::int8_t, kNumSquares> out);
// out[s] = 1 where `board` has square s, else 0.
void unpack(Bitboard board, std::span<std::int8_t, kNumSquares> out);

// ---- random games ------------------------------------------------------------------------------

// splitmix64 (Steele, Lea, Flood 2014): the generator behind synthetic games. Small, fast, and easy
// to reproduce elsewhere (docs/games.md gives the exact recipe).
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit constexpr SplitMix64(std::uint64_t seed) : state_(seed) {}
  constexpr std::uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  // Uniform in [0, n), n >= 1, without modulo bias (Lemire's multiply-and-reject on 32 bits).
  constexpr std::uint32_t below(std::uint32_t n) {
    std::uint64_t product = std::uint64_t{draw32()} * n;
    auto low = static_cast<std::uint32_t>(product);
    if (low < n) {
      const std::uint32_t threshold = (0u - n) % n;
      while (low < threshold) {
        product = std::uint64_t{draw32()} * n;
        low = static_cast<std::uint32_t>(product);
      }
    }
    return static_cast<std::uint32_t>(product >> 32);
  }

 private:
  constexpr std::uint32_t draw32() { return static_cast<std::uint32_t>(next() >> 32); }
  std::uint64_t state_;
};

// The generator state of game `index` of a run seeded with `seed`: independent of how the games
// are split among threads.
constexpr std::uint64_t game_seed(std::uint64_t seed, std::uint64_t index) {
  return mix64(seed ^ mix64(index + 0x9e3779b97f4a7c15ULL));
}

namespace detail {
// kSelectInByte[byte][n]: position of the n-th set bit of `byte` (8 when there is none).
inline constexpr auto kSelectInByte = [] {
  std::array<std::array<std::uint8_t, 8>, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    int found = 0;
    for (auto& entry : table[static_cast<std::size_t>(byte)]) entry = 8;
    for (int bit = 0; bit < 8; ++bit) {
      if ((byte >> bit) & 1)
        table[static_cast<std::size_t>(byte)][static_cast<std::size_t>(found++)] =
            static_cast<std::uint8_t>(bit);
    }
  }
  return table;
}();
}  // namespace detail

// Byte i of the result: the number of squares of `board` in bytes 0..i (SWAR counts, then prefix
// sums by one multiply). The top byte is the count of the whole board, without a popcount call.
constexpr Bitboard byte_prefix_counts(Bitboard board) {
  Bitboard bytes = board - ((board >> 1) & 0x5555555555555555ULL);
  bytes = (bytes & 0x3333333333333333ULL) + ((bytes >> 2) & 0x3333333333333333ULL);
  bytes = (bytes + (bytes >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return bytes * 0x0101010101010101ULL;
}

// The n-th (0-based, ascending) square of `board` given its byte_prefix_counts; n < count(board).
// Branch-free, since a random n makes a bit-clearing loop mispredict.
constexpr int select_square(Bitboard board, Bitboard prefix, int n) {
  constexpr Bitboard kOnes = 0x0101010101010101ULL;
  constexpr Bitboard kHigh = 0x8080808080808080ULL;
  // High bit of byte i set where prefix_i <= n: those bytes lie wholly before the target.
  const Bitboard before = (((static_cast<Bitboard>(n) * kOnes) | kHigh) - prefix) & kHigh;
  const int byte = static_cast<int>(((before >> 7) * kOnes) >> 56);
  const int skipped = static_cast<int>(((prefix << 8) >> (8 * byte)) & 0xff);
  const auto bits = static_cast<std::size_t>((board >> (8 * byte)) & 0xff);
  return 8 * byte + detail::kSelectInByte[bits][static_cast<std::size_t>(n - skipped)];
}

// The n-th (0-based, ascending) square of `board`; n < count(board).
constexpr int nth_square(Bitboard board, int n) {
  return select_square(board, byte_prefix_counts(board), n);
}

// A uniformly chosen square of `board` (not empty).
constexpr int random_square(Bitboard board, SplitMix64& rng) {
  const Bitboard prefix = byte_prefix_counts(board);
  const auto size = static_cast<std::uint32_t>(prefix >> 56);
  return select_square(board, prefix, static_cast<int>(rng.below(size)));
}

// Plays one synthetic game (Li et al.): every ply picks uniformly among the valid moves, until
// neither side can move. Writes the squares to `squares` and returns the game's length.
constexpr int random_game(SplitMix64& rng, std::span<std::int8_t, kMaxGameLength> squares) {
  Position position = Position::start();
  int length = 0;
  while (!position.game_over()) {
    const int square = random_square(position.valid_moves(), rng);
    position.play(square);
    squares[static_cast<std::size_t>(length++)] = static_cast<std::int8_t>(square);
  }
  return length;
}

// Plays synthetic games first .. first + count - 1 (game j from game_seed(seed, j), each exactly as
// random_game plays it) into `squares` ([count, 60], -1 after each game's end). Two games are
// interleaved, so that the dependency chain of one overlaps the other's (about 20% faster).
void random_games(std::uint64_t seed, std::uint64_t first, std::uint64_t count,
                  std::span<std::int8_t> squares);

// ---- perft -------------------------------------------------------------------------------------

// Leaf count of the move tree `depth` plies deep from (mover, opponent) to move. A pass counts as
// a ply; a finished game before `depth` counts as one leaf.
std::uint64_t perft(Bitboard mover, Bitboard opponent, int depth);

}  // namespace othrun::othello
