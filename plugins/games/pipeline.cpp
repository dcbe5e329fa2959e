// The games pipeline: each batch is read or generated, replayed on the worker threads, written.
#include "pipeline.hpp"

#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include <chrono>
#include <memory>

namespace othrun::games_plugin {

namespace {

// Accumulates the seconds spent in each stage, for the debug log.
class StageClock {
 public:
  void lap(double& stage) {
    const auto now = std::chrono::steady_clock::now();
    stage += std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

void write_games(GameSource& source, Group& root, const PipelineOptions& options, Ranks& ranks) {
  const std::uint64_t total = source.size();
  // Replaying a game does not depend on its batch: any block size gives the same rows.
  const RowShare share = ranks.share(total, kRankBlockGames);
  games::WriterOptions writer_options = options.writer;
  writer_options.share = share;
  writer_options.ranks = &ranks;
  games::GamesWriter writer(root, total, writer_options);
  std::unique_ptr<Progress> progress;
  if (options.progress) progress = std::make_unique<Progress>("games", share.count(), "games");
  std::vector<std::int8_t> squares;
  double reading = 0, replaying = 0, writing = 0;
  StageClock clock;
  source.skip(share.begin);  // a source is read in order: the earlier ranks' games first
  for (std::uint64_t first = share.begin; first < share.end; first += options.batch_games) {
    const std::uint64_t count = std::min(options.batch_games, share.end - first);
    source.next(count, squares);
    clock.lap(reading);
    games::GameBatch batch;
    try {
      batch = games::replay(squares, first, options.writer.convention, options.threads);
    } catch (const DataError& error) {
      throw DataError(source.error_prefix() + error.what() + source.error_hint());
    }
    clock.lap(replaying);
    writer.write(batch);
    clock.lap(writing);
    if (progress) progress->advance(count);
  }
  source.describe(ranks, root.attrs());
  log::debug("games: {} games; {:.2f} s reading or playing, {:.2f} s replaying, {:.2f} s writing",
             total, reading, replaying, writing);
}

}  // namespace othrun::games_plugin
