// Synthetic games (Li et al.): every ply a uniformly random valid move, until neither side can
// move. Candidate game j is played from othello::game_seed(seed, j), so the games do not depend on
// the thread count; filters (full length, no duplicates) keep candidates in index order.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "game_source.hpp"

namespace othrun::games_plugin {

struct SyntheticOptions {
  std::uint64_t seed = 0;
  std::uint64_t games = 0;
  bool full_games_only = false;  // keep only 60-move games, as board_seqs_*_small.npy
  bool unique = false;           // drop a game identical to an earlier kept one
  int threads = 1;
};

// Plays candidates [first, first + count) into `squares` ([count, 60], -1 padded).
void play_candidates(std::uint64_t seed, std::uint64_t first, std::uint64_t count, int threads,
                     std::vector<std::int8_t>& squares);

class SyntheticSource : public GameSource {
 public:
  explicit SyntheticSource(SyntheticOptions options);

  std::uint64_t size() const override { return options_.games; }
  void next(std::uint64_t count, std::vector<std::int8_t>& squares) override;
  void describe(Ranks& ranks, Attributes attrs) const override;
  std::uint64_t candidates() const { return next_candidate_; }

 private:
  // Plays the next batch of candidates and appends the ones the filters keep to kept_.
  void play_more();
  bool keep(const std::int8_t* game);

  SyntheticOptions options_;
  std::uint64_t next_candidate_ = 0;
  std::uint64_t accepted_ = 0;     // candidates the filters kept so far
  std::vector<std::int8_t> kept_;  // accepted games not yet handed out, [k, 60]
  std::size_t kept_offset_ = 0;    // games of kept_ already handed out
  std::vector<std::int8_t> candidates_;
  std::unordered_set<std::string> seen_;
};

}  // namespace othrun::games_plugin
