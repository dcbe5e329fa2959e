// The seed notebook's figure of the neuron_spectrum plugin, with the notebook's titles, scales and
// axis names. They live with the plugin (not in libothrun_core), in namespace othrun::report beside
// the generic builders they use.
#pragma once

#include <othrun/report.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::report {

// Histogram of a neuron's activations split by a label, e.g. "current_move==E0": 100 bins and
// percent by default (set on `histogram` by bin_values or by the caller).
Figure spectrum_histogram(std::string name, Histogram histogram, std::string caption = {});

}  // namespace othrun::report
