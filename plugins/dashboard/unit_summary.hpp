// What a dashboard shows of one unit, computed from its values at every (game, position): the
// activation density and histogram, quantile groups of the active values (as sae_vis), the top
// examples and samples from each group, and the board states it goes with (docs/dashboards.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace othrun::dashboard {

inline constexpr int kStateColumns =
    64 * 3;  // column square * 3 + state (0 empty, 1 theirs, 2 mine)

struct SummaryOptions {
  int bins = 40;           // histogram bins over the unit's non-zero values
  int top_examples = 10;   // the largest values
  int groups = 4;          // equal-count groups of the active (> 0) values
  int group_examples = 3;  // random examples drawn from each group
  int top_states = 5;      // board states listed, by firing correlation
};

// The rows every unit shares: which exist (position < the game's length) and their board states.
struct RowTable {
  std::vector<std::uint8_t> keep;             // [rows]
  std::vector<std::uint8_t> codes;            // [rows, 64]: 0 empty, 1 theirs, 2 mine
  std::vector<std::uint8_t> codes_by_square;  // the same, [64, rows]: one square's rows in a run
  std::vector<std::int64_t> class_count;      // [192] kept rows per (square, state) column
  std::uint64_t kept = 0;
  // A hash of the moves up to each row's position: rows with equal prefixes are the same model
  // input (every unit has the same value there), so examples show one of them, with the count.
  std::vector<std::uint64_t> prefix;        // [rows]
  std::vector<std::uint32_t> prefix_count;  // [rows]: kept rows sharing that prefix
};
RowTable make_row_table(std::vector<std::uint8_t> keep, std::vector<std::uint8_t> codes,
                        std::vector<std::uint64_t> prefix);

struct Example {
  std::uint64_t row = 0;  // index into the unit's values (game-major)
  float value = 0;
  int group = -1;             // -1: a top example; g: drawn from quantile group g (0 = lowest)
  std::uint32_t repeats = 0;  // other kept rows with the same moves so far (same input, same value)
};

struct StateScore {
  int column = 0;  // square * 3 + state
  float firing_corr = 0, act_corr = 0, f1 = 0, auroc = 0;
};

// Per-(square, state) statistics of one unit: computed here, or read from a sae_correlation
// product.
struct StateStats {
  std::vector<float> firing_corr, act_corr, f1;  // [192]
  std::vector<float>
      auroc;  // [192]; NaN where not computed (the own path ranks the top states only)
};

struct UnitSummary {
  std::uint64_t kept = 0, active = 0;  // rows, and rows where the value is > 0
  double density = 0, mean = 0;        // active / kept; mean value over the kept rows
  float min = 0, max = 0;
  std::vector<double> edges;           // [bins + 1] over the non-zero values (empty when none)
  std::vector<std::int64_t> counts;    // [bins]
  std::vector<float> bounds;           // [groups + 1]: quantiles g / groups of the active values
  std::vector<Example> examples;       // top examples first, then each group from the highest
  std::vector<StateScore> top_states;  // best firing correlation first
};

// Summarises one unit's `values` (rows of `table`). `seed` draws the group examples. `stats` are
// the unit's board-state statistics (its own, or a sae_correlation product's); with
// `rank_auroc`, the AUROC of the top states is computed here, exactly, from the values.
UnitSummary summarize(std::span<const float> values, const RowTable& table,
                      const SummaryOptions& options, std::uint64_t seed, const StateStats& stats,
                      bool rank_auroc);

// Sums over the kept rows from which the own state statistics follow.
struct StateSums {
  std::vector<double> value_in_class;  // [192] sum of the value over rows in each (square, state)
  std::vector<double> fired_in_class;  // [192] rows with value > 0 in each
  double sum = 0, sum_sq = 0, fired = 0;
};
// One unit, visiting only its non-zero values (cheap for sparse SAE features).
StateSums state_sums(std::span<const float> values, const RowTable& table);
// `count` units at once (block: [count, rows]) with double-precision matrix products over chunks
// of rows (for dense units: neurons, probe directions).
std::vector<StateSums> block_state_sums(const std::vector<float>& block, std::int64_t count,
                                        const RowTable& table);
// Pearson of the value and of `fired` (> 0) with each "square in state" indicator, and F1 of
// fired predicting it. AUROC is left NaN.
StateStats state_stats(const StateSums& sums, const RowTable& table);

}  // namespace othrun::dashboard
