// The seed notebook's figure of the inference plugin, with the notebook's titles, scales and axis
// names. They live with the plugin (not in libothrun_core), in namespace othrun::report beside the
// generic builders they use.
#pragma once

#include <othrun/report.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::report {

// Log-probabilities of the next move by square: sequential Blues, zmax 0, centre squares blank.
Figure log_prob_board(std::string name, const Board& log_probs, std::string title,
                      std::string caption = {});

}  // namespace othrun::report
