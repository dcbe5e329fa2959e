// A "games" product: Othello games and the per-position ground truth the analyses need.
//
// Layout (docs/games.md has the full table and a numpy recipe): datasets at the product's root,
// rows = games, 60 columns = positions. Position t is the state after move t (t = 0..59), as the
// notebooks' focus_states[i, t]. Boards are uint64 bitboards: bit s (the value 1 << s) is square
// s = row * 8 + col. Columns after a game's end hold padding (token 0, square -1, zeros).
//
//   tokens  int8   [N, 60]  model tokens 1..60, 0 after the end
//   squares int8   [N, 60]  move squares 0..63, -1 after the end
//   length  int8   [N]      number of moves (1..60)
//   black, white   uint64 [N, 60]  discs after move t
//   valid          uint64 [N, 60]  valid moves after move t (of the real side to move)
//   flipped        uint64 [N, 60]  discs flipped by move t
//   to_move int8   [N, 60]  real side to move after move t: +1 black, -1 white, 0 game over
//   mover   int8   [N, 60]  who played move t: +1 black, -1 white
//   mine    int8   [N, 60]  the "mine" colour after move t under the product's convention
//   dense/  (optional) int8 [N, 60, 8, 8] arrays: board, relative, valid, flipped
//
// GamesWriter writes that layout; GamesReader reads chunks of games back as GameBatch, whose
// accessors unpack a position into 64 per-square states in the black/white or mine/theirs frame.
#pragma once

#include <othrun/othello.hpp>
#include <othrun/ranks.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace othrun::games {

inline constexpr int kPositions = othello::kMaxGameLength;
inline constexpr const char* kFormat = "othrun.games";
inline constexpr std::int64_t kFormatVersion = 1;
inline constexpr const char* kKind = "games";  // the product kind plugins ask for

// How per-square states are signed.
enum class Frame {
  BlackWhite,  // +1 black, -1 white, 0 empty
  MineTheirs,  // +1 mine, -1 theirs, 0 empty ("mine" per a MineTheirs convention)
};

// Ground truth of `count` consecutive games. Per-position vectors hold [count, 60] values, game
// major: position t of game g is element g * 60 + t (see index()).
struct GameBatch {
  std::uint64_t first = 0;  // index of the batch's first game in its product
  std::uint64_t count = 0;
  othello::MineTheirs convention = othello::MineTheirs::Real;  // the one `mine` was written with

  std::vector<std::int8_t> tokens;
  std::vector<std::int8_t> squares;
  std::vector<std::int8_t> lengths;  // [count]
  std::vector<othello::Bitboard> black;
  std::vector<othello::Bitboard> white;
  std::vector<othello::Bitboard> valid;
  std::vector<othello::Bitboard> flipped;
  std::vector<std::int8_t> to_move;
  std::vector<std::int8_t> mover;
  std::vector<std::int8_t> mine;

  // Sizes every vector for `games` games, zero-filled (squares -1).
  void resize(std::uint64_t games);
  static constexpr std::size_t index(std::uint64_t game, int t) {
    return static_cast<std::size_t>(game) * kPositions + static_cast<std::size_t>(t);
  }
  int length(std::uint64_t game) const { return lengths[static_cast<std::size_t>(game)]; }

  // The "mine" colour after move t under `convention` (not necessarily the stored one).
  othello::Color mine_color(std::uint64_t game, int t, othello::MineTheirs convention) const;
  // The position after move t, with its side to move and valid moves.
  othello::Position position(std::uint64_t game, int t) const;
  // Per-square states of position (game, t). For MineTheirs, "mine" follows `convention`.
  void board(std::uint64_t game, int t, Frame frame, std::span<std::int8_t, 64> out,
             othello::MineTheirs convention) const;
  void board(std::uint64_t game, int t, Frame frame, std::span<std::int8_t, 64> out) const {
    board(game, t, frame, out, convention);
  }
  // Every position unpacked: [count, 60, 64] per-square states (zeros after a game's end).
  std::vector<std::int8_t> boards(Frame frame) const;
  std::vector<std::int8_t> boards(Frame frame, othello::MineTheirs convention) const;
};

// A move that cannot be replayed. `message` says why, e.g. "game 12, ply 5: A0 is not a valid
// move (black to move; valid: C3 D2 E5 F4)". Plies count from 0, like positions.
struct ReplayError {
  std::uint64_t game = 0;
  int ply = 0;
  std::string message;
};

// Replays games [begin, end) of `batch` from `squares` ([batch.count, 60], -1 after a game's end)
// and fills their ground truth. Stops at the first invalid move and returns it.
std::optional<ReplayError> replay_into(std::span<const std::int8_t> squares, GameBatch& batch,
                                       std::uint64_t begin, std::uint64_t end);

// Replays all of `squares` on `threads` threads. Throws othrun::DataError with the message of the
// first (lowest game index) invalid move.
GameBatch replay(std::span<const std::int8_t> squares, std::uint64_t first,
                 othello::MineTheirs convention, int threads = 1);

struct WriterOptions {
  othello::MineTheirs convention = othello::MineTheirs::Real;
  bool dense = false;  // also write dense/ int8 [N, 60, 8, 8] arrays
  int gzip_level = 0;  // 0: none; 1..9 deflate (with shuffle)
  // Under N ranks (ranks.hpp): the games this writer holds, of the product's num_games; its
  // datasets are then split_rows(). Unset: all of them.
  std::optional<RowShare> share;
  const Ranks* ranks = nullptr;
};

// Creates the datasets of a games product for `num_games` games under `root` and fills them batch
// by batch. Describes itself with attributes on `root` (format, counts, convention) and a `doc`
// attribute on every dataset.
class GamesWriter {
 public:
  GamesWriter(Group& root, std::uint64_t num_games, WriterOptions options);
  // Writes rows [batch.first, batch.first + batch.count). batch.convention must match.
  void write(const GameBatch& batch);
  std::uint64_t num_games() const { return num_games_; }

 private:
  Group& root_;
  std::uint64_t num_games_;
  WriterOptions options_;
};

// Reads a games product (validated against kFormat and kFormatVersion). The product (or group)
// must outlive the reader. `name` identifies it in messages.
class GamesReader {
 public:
  GamesReader(const Group& root, std::string name);
  explicit GamesReader(const Product& product)
      : GamesReader(product.root(), "product '" + product.label() + "'") {}

  std::uint64_t size() const { return num_games_; }
  othello::MineTheirs convention() const { return convention_; }
  // Games [first, first + count) with their ground truth.
  GameBatch read(std::uint64_t first, std::uint64_t count) const;
  // Only the model tokens of games [first, first + count): [count, 60].
  std::vector<std::int8_t> tokens(std::uint64_t first, std::uint64_t count) const;

 private:
  const Group& root_;
  std::string name_;
  std::uint64_t num_games_ = 0;
  othello::MineTheirs convention_ = othello::MineTheirs::Real;
};

}  // namespace othrun::games
