#include "pairs.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <bit>

namespace othrun::patching {

namespace {

using othello::Bitboard;
using othello::Position;

int lowest_square(Bitboard squares) { return std::countr_zero(squares); }

// Whether position t of a pair can carry the metric: both games have valid moves there and they
// differ; an automatic logit_diff also needs a move each game has and the other lacks.
bool usable(Bitboard clean, Bitboard corrupted, const TwinOptions& o) {
  return answer_squares(clean, corrupted, o).has_value();
}

// The model input of one game: tokens of moves 0..last, padding 0 up to n_pos.
std::vector<std::int64_t> input_tokens(const std::vector<std::int8_t>& squares, int last,
                                       int n_pos) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(n_pos), othello::kPaddingToken);
  for (int t = 0; t <= last; ++t) {
    out[static_cast<std::size_t>(t)] =
        othello::square_to_token(squares[static_cast<std::size_t>(t)]);
  }
  return out;
}

// One game's moves and the valid moves after each of them.
struct GameMoves {
  std::vector<std::int8_t> squares;  // `length` moves
  std::vector<Bitboard> valid;       // valid[t]: after move t
  int length = 0;
};

GameMoves game_moves(const games::GameBatch& batch, std::uint64_t row) {
  GameMoves g;
  g.length = batch.length(row);
  for (int t = 0; t < g.length; ++t) {
    g.squares.push_back(batch.squares[games::GameBatch::index(row, t)]);
    g.valid.push_back(batch.valid[games::GameBatch::index(row, t)]);
  }
  return g;
}

struct Candidate {
  int ply = -1, square = -1, metric_position = -1;
  Bitboard corrupted_valid = 0;
};

// The best replacement at `ply` (latest metric position, then lowest square), if any is usable.
std::optional<Candidate> best_at_ply(const GameMoves& clean, int ply, int max_position,
                                     const TwinOptions& o) {
  Position before = Position::start();
  for (int t = 0; t < ply; ++t) before.play(clean.squares[static_cast<std::size_t>(t)]);
  const int clean_square = clean.squares[static_cast<std::size_t>(ply)];
  Bitboard alternatives = before.valid_moves() & ~othello::square_bit(clean_square);
  std::optional<Candidate> best;
  for (; alternatives != 0; alternatives &= alternatives - 1) {
    const int square = lowest_square(alternatives);
    Position twin = before;
    twin.play(square);
    std::vector<Bitboard> valid{twin.valid_moves()};  // valid[t - ply]
    const int last = std::min(max_position, clean.length - 1);
    for (int t = ply + 1; t <= last; ++t) {
      const int next = clean.squares[static_cast<std::size_t>(t)];
      if (!twin.is_valid(next)) break;  // the rest of the game is not legal here: truncate
      twin.play(next);
      valid.push_back(twin.valid_moves());
    }
    for (int t = ply + static_cast<int>(valid.size()) - 1; t >= ply; --t) {
      const Bitboard corrupted = valid[static_cast<std::size_t>(t - ply)];
      if (!usable(clean.valid[static_cast<std::size_t>(t)], corrupted, o)) continue;
      if (!best || t > best->metric_position) best = Candidate{ply, square, t, corrupted};
      break;
    }
  }
  return best;
}

GamePair twin_pair(const GameMoves& clean, std::uint64_t index, const Candidate& c,
                   const TwinOptions& o) {
  GamePair p;
  p.clean_game = index;
  p.changed_ply = c.ply;
  p.clean_square = clean.squares[static_cast<std::size_t>(c.ply)];
  p.corrupted_square = c.square;
  p.metric_position = c.metric_position;
  p.clean_valid = clean.valid[static_cast<std::size_t>(c.metric_position)];
  p.corrupted_valid = c.corrupted_valid;
  const auto answer = answer_squares(p.clean_valid, p.corrupted_valid, o);
  if (o.metric == MetricKind::LogitDiff) std::tie(p.plus_square, p.minus_square) = *answer;
  p.clean_tokens = input_tokens(clean.squares, c.metric_position, o.n_pos);
  std::vector<std::int8_t> twin = clean.squares;
  twin[static_cast<std::size_t>(c.ply)] = static_cast<std::int8_t>(c.square);
  p.corrupted_tokens = input_tokens(twin, c.metric_position, o.n_pos);
  return p;
}

int last_position(const TwinOptions& o) { return std::min(o.max_position, o.n_pos - 1); }

}  // namespace

std::optional<std::pair<int, int>> answer_squares(Bitboard clean_valid, Bitboard corrupted_valid,
                                                  const TwinOptions& o) {
  if (clean_valid == 0 || corrupted_valid == 0 || clean_valid == corrupted_valid) {
    return std::nullopt;
  }
  if (o.metric != MetricKind::LogitDiff) return std::pair{-1, -1};
  if (o.plus_square && o.minus_square) return std::pair{*o.plus_square, *o.minus_square};
  const Bitboard clean_only = clean_valid & ~corrupted_valid;
  const Bitboard corrupted_only = corrupted_valid & ~clean_valid;
  if (clean_only == 0 || corrupted_only == 0) return std::nullopt;
  return std::pair{lowest_square(clean_only), lowest_square(corrupted_only)};
}

TwinResult make_twins(const games::GamesReader& games, const TwinOptions& o) {
  TwinResult result;
  constexpr std::uint64_t kChunk = 256;
  const int max_position = last_position(o);
  for (std::uint64_t first = o.first_game; result.pairs.size() < o.pairs && first < games.size();
       first += kChunk) {
    const std::uint64_t count = std::min(kChunk, games.size() - first);
    const games::GameBatch batch = games.read(first, count);
    for (std::uint64_t row = 0; row < count && result.pairs.size() < o.pairs; ++row) {
      const std::uint64_t index = first + row;
      ++result.games_read;
      const GameMoves clean = game_moves(batch, row);
      std::vector<Candidate> workable;
      const int stop = std::min({o.stop_ply, clean.length, max_position + 1});
      for (int ply = o.first_ply; ply < stop; ++ply) {
        if (auto c = best_at_ply(clean, ply, max_position, o)) workable.push_back(*c);
      }
      if (workable.empty()) {
        ++result.games_skipped;
        continue;
      }
      othello::SplitMix64 rng(othello::game_seed(o.seed, index));
      const auto pick = rng.below(static_cast<std::uint32_t>(workable.size()));
      result.pairs.push_back(twin_pair(clean, index, workable[pick], o));
    }
  }
  if (result.pairs.size() < o.pairs) {
    throw DataError(fmt::format(
        "activation_patching: games {}..{} gave {} usable twins, {} asked (pairs); {} games had "
        "none for plies {}:{}. Use more games, fewer pairs or a wider corrupt_plies range",
        o.first_game, o.first_game + result.games_read, result.pairs.size(), o.pairs,
        result.games_skipped, o.first_ply, o.stop_ply));
  }
  return result;
}

GamePair make_chosen_pair(const games::GamesReader& games, std::uint64_t clean_index,
                          std::uint64_t corrupted_index, const TwinOptions& o) {
  for (std::uint64_t index : {clean_index, corrupted_index}) {
    if (index >= games.size()) {
      throw DataError(fmt::format("activation_patching: game {} does not exist ({} games)", index,
                                  games.size()));
    }
  }
  const GameMoves clean = game_moves(games.read(clean_index, 1), 0);
  const GameMoves corrupted = game_moves(games.read(corrupted_index, 1), 0);
  const int last = std::min({last_position(o), clean.length - 1, corrupted.length - 1});
  for (int t = last; t >= 0; --t) {
    const Bitboard cv = clean.valid[static_cast<std::size_t>(t)];
    const Bitboard kv = corrupted.valid[static_cast<std::size_t>(t)];
    const auto answer = answer_squares(cv, kv, o);
    if (!answer) continue;
    GamePair p;
    p.clean_game = clean_index;
    p.corrupted_game = static_cast<std::int64_t>(corrupted_index);
    p.metric_position = t;
    p.clean_valid = cv;
    p.corrupted_valid = kv;
    if (o.metric == MetricKind::LogitDiff) std::tie(p.plus_square, p.minus_square) = *answer;
    p.clean_tokens = input_tokens(clean.squares, t, o.n_pos);
    p.corrupted_tokens = input_tokens(corrupted.squares, t, o.n_pos);
    return p;
  }
  throw DataError(fmt::format(
      "activation_patching: games {} (clean) and {} (corrupted) have no position <= {} where both "
      "have valid moves that differ{}",
      clean_index, corrupted_index, last,
      o.metric == MetricKind::LogitDiff && !o.plus_square
          ? " with a valid move in each game that the other lacks (logit_diff)"
          : ""));
}

}  // namespace othrun::patching
