// Synthetic game generation: parallel candidates, deterministic filtering in candidate order.
#include "synthetic.hpp"

#include <othrun/error.hpp>
#include <othrun/othello.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "parallel.hpp"

namespace othrun::games_plugin {

namespace {

constexpr std::size_t kMoves = othello::kMaxGameLength;
constexpr std::uint64_t kCandidateBatch = 8192;
// Give up when this many candidates per requested game were not enough: a filter that keeps
// almost nothing would otherwise loop for ever.
constexpr std::uint64_t kMaxCandidatesPerGame = 1000;

}  // namespace

void play_candidates(std::uint64_t seed, std::uint64_t first, std::uint64_t count, int threads,
                     std::vector<std::int8_t>& squares) {
  squares.resize(count * kMoves);
  parallel_for(threads, count, [&](std::uint64_t begin, std::uint64_t end) {
    othello::random_games(seed, first + begin, end - begin,
                          std::span(squares).subspan(begin * kMoves, (end - begin) * kMoves));
  });
}

SyntheticSource::SyntheticSource(SyntheticOptions options) : options_(options) {}

bool SyntheticSource::keep(const std::int8_t* game) {
  if (options_.full_games_only && game[kMoves - 1] < 0) return false;
  if (!options_.unique) return true;
  return seen_.emplace(reinterpret_cast<const char*>(game), kMoves).second;
}

void SyntheticSource::play_more() {
  const std::uint64_t limit = std::max<std::uint64_t>(options_.games, 1) * kMaxCandidatesPerGame;
  if (next_candidate_ >= limit) {
    throw Error(
        fmt::format("synthetic games: only {} of {} games kept after {} candidates; the "
                    "filters (full_games_only, unique) keep too few",
                    accepted_, options_.games, next_candidate_));
  }
  play_candidates(options_.seed, next_candidate_, kCandidateBatch, options_.threads, candidates_);
  next_candidate_ += kCandidateBatch;
  // Drop the games already handed out, then append the new keepers in candidate order.
  kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(kept_offset_ * kMoves));
  kept_offset_ = 0;
  for (std::uint64_t i = 0; i < kCandidateBatch; ++i) {
    const std::int8_t* game = candidates_.data() + i * kMoves;
    if (!keep(game)) continue;
    kept_.insert(kept_.end(), game, game + kMoves);
    ++accepted_;
  }
}

void SyntheticSource::next(std::uint64_t count, std::vector<std::int8_t>& squares) {
  squares.clear();
  squares.reserve(count * kMoves);
  while (squares.size() < count * kMoves) {
    if (kept_offset_ * kMoves == kept_.size()) play_more();
    const std::size_t available = kept_.size() / kMoves - kept_offset_;
    const std::size_t take = std::min<std::size_t>(available, count - squares.size() / kMoves);
    const auto begin = kept_.begin() + static_cast<std::ptrdiff_t>(kept_offset_ * kMoves);
    squares.insert(squares.end(), begin, begin + static_cast<std::ptrdiff_t>(take * kMoves));
    kept_offset_ += take;
  }
}

void SyntheticSource::describe(Ranks& ranks, Attributes attrs) const {
  // The last rank played the candidates of every game before its own: as many as one process.
  const std::vector<std::uint64_t> played = all_gather_values(ranks, next_candidate_);
  const std::uint64_t candidates = *std::max_element(played.begin(), played.end());
  attrs.set("source", "synthetic");
  attrs.set("seed", std::to_string(options_.seed));
  attrs.set("full_games_only", static_cast<std::int64_t>(options_.full_games_only));
  attrs.set("unique", static_cast<std::int64_t>(options_.unique));
  attrs.set("candidates", static_cast<std::int64_t>(candidates));
}

}  // namespace othrun::games_plugin
