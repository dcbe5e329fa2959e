// The report figures of sae_correlation: the seed notebook's correlation histogram, the top pairs
// table and the pairs' 2x2 counts as small multiples.
#pragma once

#include "correlation.hpp"

#include <othrun/analysis/stats.hpp>

#include <vector>

namespace othrun::sae_correlation {

// figures/correlation_histogram, figures/top_pairs and figures/pair_counts (one panel per pair).
// `pairs` are the notebook's with options.notebook_compat, else the corrected top pairs.
void write_figures(Group& root, const analysis::Histogram& histogram,
                   const std::vector<Pair>& pairs, const Options& options);

}  // namespace othrun::sae_correlation
