// The seed notebook's figure of the max_activation plugin, with the notebook's titles, scales and
// axis names. They live with the plugin (not in libothrun_core), in namespace othrun::report beside
// the generic builders they use.
#pragma once

#include <othrun/report.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::report {

// Mean board (mine +1 / theirs -1) over the top activations of a neuron: RdBu, midpoint 0.
// `absolute` titles it as the mean of the absolute value.
Figure max_activation_board(std::string name, const Board& mean_board, int layer, int neuron,
                            bool absolute, std::string caption = {});

}  // namespace othrun::report
