// Replaying recorded games into their per-position ground truth, validating every move.
#include <othrun/error.hpp>
#include <othrun/games.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace othrun::games {

namespace {

using othello::Color;
using othello::Position;

ReplayError error_at(std::uint64_t game, int ply, const std::string& what) {
  return {game, ply, fmt::format("game {}, ply {}: {}", game, ply, what)};
}

// Why `square` cannot be played in `position`.
std::string invalid_move(const Position& position, int square) {
  if (!othello::is_square(square)) return fmt::format("square {} is outside 0..63", square);
  const std::string label = othello::square_label(square);
  if (position.game_over()) {
    return fmt::format("{} is played after the game ended (neither side can move)", label);
  }
  return fmt::format("{} is not a valid move ({} to move; valid: {})", label,
                     othello::to_string(position.to_move()),
                     othello::squares_to_string(position.valid_moves()));
}

// Replays one game; returns its length or the first error.
std::optional<ReplayError> replay_game(std::span<const std::int8_t> squares, GameBatch& batch,
                                       std::uint64_t game) {
  const std::uint64_t global = batch.first + game;
  Position position = Position::start();
  int length = 0;
  for (int t = 0; t < kPositions; ++t) {
    const std::size_t i = GameBatch::index(game, t);
    const int square = squares[i];
    if (square < 0) break;
    if (!position.is_valid(square)) return error_at(global, t, invalid_move(position, square));
    const Color mover = position.to_move();
    batch.flipped[i] = position.play(square);
    batch.squares[i] = static_cast<std::int8_t>(square);
    batch.tokens[i] = static_cast<std::int8_t>(othello::square_to_token(square));
    batch.black[i] = position.black();
    batch.white[i] = position.white();
    batch.valid[i] = position.valid_moves();
    batch.to_move[i] = static_cast<std::int8_t>(position.to_move());
    batch.mover[i] = static_cast<std::int8_t>(mover);
    batch.mine[i] = static_cast<std::int8_t>(
        othello::mine_color(batch.convention, t, position.to_move(), mover));
    length = t + 1;
  }
  for (int t = length; t < kPositions; ++t) {
    if (squares[GameBatch::index(game, t)] >= 0) {
      return error_at(global, t,
                      fmt::format("a move after the end of the record (ply {} is "
                                  "padding)",
                                  length));
    }
  }
  if (length == 0) return error_at(global, 0, "the game has no moves");
  batch.lengths[static_cast<std::size_t>(game)] = static_cast<std::int8_t>(length);
  return std::nullopt;
}

}  // namespace

std::optional<ReplayError> replay_into(std::span<const std::int8_t> squares, GameBatch& batch,
                                       std::uint64_t begin, std::uint64_t end) {
  for (std::uint64_t game = begin; game < end; ++game) {
    if (auto error = replay_game(squares, batch, game)) return error;
  }
  return std::nullopt;
}

GameBatch replay(std::span<const std::int8_t> squares, std::uint64_t first,
                 othello::MineTheirs convention, int threads) {
  if (squares.size() % kPositions != 0) {
    throw Error(
        fmt::format("replay: {} squares are not whole games of {}", squares.size(), kPositions));
  }
  GameBatch batch;
  batch.first = first;
  batch.convention = convention;
  batch.resize(squares.size() / kPositions);
  const std::uint64_t workers = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::max(threads, 1)), 1, std::max<std::uint64_t>(batch.count, 1));
  std::vector<std::optional<ReplayError>> errors(workers);
  std::vector<std::jthread> pool;  // joins even if the calling thread's share throws
  for (std::uint64_t w = 0; w < workers; ++w) {
    const std::uint64_t begin = batch.count * w / workers;
    const std::uint64_t end = batch.count * (w + 1) / workers;
    auto work = [&, w, begin, end] { errors[w] = replay_into(squares, batch, begin, end); };
    if (w + 1 == workers) {
      work();  // the calling thread takes the last share
    } else {
      pool.emplace_back(work);
    }
  }
  for (auto& thread : pool) thread.join();
  // Ranges are in game order, so the first worker with an error has the lowest game index.
  for (const auto& error : errors) {
    if (error) throw DataError(error->message);
  }
  return batch;
}

}  // namespace othrun::games
