// The patching heatmaps of the report: [layer, position] per hook kind and [layer, head].
#pragma once

#include "results.hpp"

#include <othrun/store.hpp>

#include <string>
#include <vector>

namespace othrun::patching {

// figures/<kind>_heatmap: the normalised scores [layers, sites] of `kind`.
void write_heatmap(Group& root, const std::string& kind, const ResultInfo& info,
                   const std::vector<double>& scores, const SweepResult& sweep,
                   std::uint64_t n_pairs);

}  // namespace othrun::patching
