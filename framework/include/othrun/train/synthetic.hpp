// Synthetic training games drawn on the fly (uniform random legal moves with implicit passes, the
// engine's random_game), and the top-1 legal-move check of a model's predictions. No LibTorch.
//
// Game i of a stream is played from SplitMix64(game_seed(seed, i)), so a stream is a pure function
// of (seed, index): a resumed run continues from the saved cursor and draws the same games an
// uninterrupted run would.
#pragma once

#include <cstdint>
#include <vector>

namespace othrun::train {

struct GameRows {
  std::int64_t count = 0;
  std::vector<std::int64_t> tokens;  // [count, 60] model tokens, 0 after a game's end
  std::uint64_t next_cursor = 0;     // the stream index after the last game drawn (or skipped)
};

class GameStream {
 public:
  // `full_only`: keep only 60-move games (as the "small" datasets); others are skipped.
  GameStream(std::uint64_t seed, bool full_only) : seed_(seed), full_only_(full_only) {}

  // `count` games starting at stream index `cursor`.
  GameRows draw(std::uint64_t cursor, std::int64_t count) const;

 private:
  std::uint64_t seed_;
  bool full_only_;
};

struct LegalCount {
  std::int64_t legal = 0;
  std::int64_t total = 0;
  double rate() const {
    return total > 0 ? static_cast<double>(legal) / static_cast<double>(total) : 0.0;
  }
};

// Top-1 legal-move count: for each game (tokens [games, 60]) and input position t < n_pos whose
// next move exists (tokens[t + 1] != 0), replays moves 0..t and checks whether the predicted token
// predicted[game * n_pos + t] is one of the valid moves there (othello_world's get_valid_moves()).
LegalCount count_legal_top1(const std::vector<std::int64_t>& tokens,
                            const std::vector<std::int64_t>& predicted, std::int64_t n_pos);

}  // namespace othrun::train
