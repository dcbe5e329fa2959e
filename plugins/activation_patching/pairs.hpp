// Clean games and their corrupted twins for activation patching (docs/interventions.md,
// "activation_patching"). No LibTorch here: pairs are built with the Othello engine alone.
#pragma once

#include <othrun/games.hpp>
#include <othrun/othello.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace othrun::patching {

enum class MetricKind {
  LogitDiff,     // logit[plus] - logit[minus] at the pair's metric position
  LegalLogProb,  // mean log-prob of the clean game's valid moves there
};

// One clean game and its corrupted counterpart, as model inputs of the same length.
struct GamePair {
  std::uint64_t clean_game = 0;           // index in the games product
  std::int64_t corrupted_game = -1;       // a chosen pair: its corrupted game; -1 for a twin
  int changed_ply = -1;                   // a twin: the ply whose move was changed
  int clean_square = -1;                  // a twin: the clean game's move at that ply ...
  int corrupted_square = -1;              // ... and the twin's
  int metric_position = 0;                // the position whose prediction the metric reads
  othello::Bitboard clean_valid = 0;      // valid moves after metric_position, clean game
  othello::Bitboard corrupted_valid = 0;  // the same in the corrupted game
  int plus_square = -1;                   // logit_diff: the move whose logit counts positively
  int minus_square = -1;                  // logit_diff: the move whose logit counts negatively
  // Model input, one token per position 0..metric_position (padding 0 after it: causal attention
  // keeps later positions from reaching the metric).
  std::vector<std::int64_t> clean_tokens;
  std::vector<std::int64_t> corrupted_tokens;
};

struct TwinOptions {
  std::uint64_t pairs = 100;
  std::uint64_t first_game = 0;
  int first_ply = 0, stop_ply = 60;  // plies that may be changed: [first_ply, stop_ply)
  int max_position = 58;             // the latest metric position
  int n_pos = 59;                    // model input positions
  MetricKind metric = MetricKind::LogitDiff;
  // logit_diff with both set: the same two moves for every pair; unset: chosen per pair.
  std::optional<int> plus_square, minus_square;
  std::uint64_t seed = 0;
};

struct TwinResult {
  std::vector<GamePair> pairs;
  std::uint64_t games_read = 0;     // games looked at
  std::uint64_t games_skipped = 0;  // of which no twin works
};

// Builds `options.pairs` twins from games first_game, first_game + 1, ...: one move at a ply in
// [first_ply, stop_ply) is replaced by another valid move, and the clean game's later moves are
// replayed on the twin as long as they stay valid (the pair is truncated where one is not). The
// ply is drawn (seeded by the game's index) among the plies that give a usable twin; at that ply
// the replacement reaching the latest metric position wins (ties: the lowest square). A twin is
// usable when, at some position >= the changed ply, both games still have valid moves that differ,
// and for an automatic logit_diff each game has a valid move the other lacks; the metric position
// is the latest such position <= max_position. Games without a usable twin are skipped; throws
// DataError when the product runs out of games first.
TwinResult make_twins(const games::GamesReader& games, const TwinOptions& options);

// A chosen pair (clean, corrupted game indices): the metric position is the latest position <=
// max_position valid in both games where they satisfy the usability rule above (from position 0).
// Throws DataError naming the pair when there is none.
GamePair make_chosen_pair(const games::GamesReader& games, std::uint64_t clean,
                          std::uint64_t corrupted, const TwinOptions& options);

// The squares whose logits a logit_diff metric compares for one pair: the fixed ones when given,
// else the lowest valid square of each game that the other game lacks. nullopt when unusable.
std::optional<std::pair<int, int>> answer_squares(othello::Bitboard clean_valid,
                                                  othello::Bitboard corrupted_valid,
                                                  const TwinOptions& options);

}  // namespace othrun::patching
