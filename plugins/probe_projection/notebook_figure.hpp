// The seed notebook's figure of the probe_projection plugin, with the notebook's titles, scales and
// axis names. They live with the plugin (not in libothrun_core), in namespace othrun::report beside
// the generic builders they use.
#pragma once

#include <othrun/report.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::report {

// Probe accuracy per square: sequential Blues over the data's range (stated in the caption).
Figure probe_accuracy_board(std::string name, const Board& accuracy, std::string title,
                            std::string caption = {});

}  // namespace othrun::report
