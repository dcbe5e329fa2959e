// Source -> replay (ground truth, validation) -> GamesWriter, batch by batch.
#pragma once

#include <othrun/games.hpp>
#include <othrun/store.hpp>

#include "game_source.hpp"

namespace othrun::games_plugin {

// Games per block of a rank's share.
inline constexpr std::uint64_t kRankBlockGames = 256;

struct PipelineOptions {
  games::WriterOptions writer;
  int threads = 1;
  std::uint64_t batch_games = 8192;  // games replayed and written at a time
  bool progress = true;
};

// Writes every game of `source` under `root`. Throws DataError (prefixed with the source's
// error_prefix) on the first invalid game; the host then discards the product.
// Under N ranks, each writes its share of the games (ranks.hpp).
void write_games(GameSource& source, Group& root, const PipelineOptions& options, Ranks& ranks);

}  // namespace othrun::games_plugin
