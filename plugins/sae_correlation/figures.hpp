// The report figures of sae_correlation: the seed notebook's correlation histogram, the top pairs
// table and one 2x2 bar chart per pair.
#pragma once

#include "correlation.hpp"

#include <othrun/analysis/stats.hpp>

#include <vector>

namespace othrun::sae_correlation {

// figures/correlation_histogram, figures/top_pairs and figures/pair_<rank> (rank 1..k). `pairs`
// are the notebook's with options.notebook_compat, else the corrected top pairs.
void write_figures(Group& root, const analysis::Histogram& histogram,
                   const std::vector<Pair>& pairs, const Options& options);

}  // namespace othrun::sae_correlation
