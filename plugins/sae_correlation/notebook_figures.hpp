// The seed notebook's figures of the sae_correlation plugin, with the notebook's titles, scales and
// axis names. They live with the plugin (not in libothrun_core), in namespace othrun::report beside
// the generic builders they use.
#pragma once

#include <othrun/report.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::report {

// Histogram of the (feature, square) correlations.
Figure correlation_histogram(std::string name, Histogram histogram, std::string caption = {});

// 2x2 counts of one (feature, square) pair: "feature fired?" x "square empty?" (or, with `state`,
// "square in that state?"; the *_empty counts then mean "in the state").
struct PairCounts {
  std::int64_t feature;
  int square;
  std::string square_label;  // empty: square_label(square)
  double correlation = 0;
  std::uint64_t fired_empty = 0, silent_empty = 0, fired_not_empty = 0, silent_not_empty = 0;
  std::string state;  // empty: "Empty" (the notebook's); e.g. "Mine" titles IsMine(..), Not Mine
};
// The 2x2 counts of every pair as small multiples in one figure: a panel per pair titled "F485 vs
// IsEmpty(E3)", grouped bars x = False/True ("Feature fired?"), series Empty (blue) and Not Empty
// (red), as the notebook's bar charts.
Figure pair_counts_grid(std::string name, const std::vector<PairCounts>& pairs,
                        std::string caption = {});
// The top pairs as a table; each row links to the pair counts figure named `counts_figure`
// (empty: no links). A "state" column is added when any pair names one.
Figure top_pairs_table(std::string name, const std::vector<PairCounts>& pairs,
                       const std::string& counts_figure, std::string caption = {});

}  // namespace othrun::report
