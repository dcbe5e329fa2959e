// The report figure of neuron_spectrum: the seed notebook's spectrum plot.
#pragma once

#include <othrun/analysis/units.hpp>
#include <othrun/store.hpp>

#include <string>
#include <vector>

namespace othrun::neuron_spectrum {

struct Results {
  std::string label;              // e.g. "current_move==E0"
  std::vector<double> edges;      // bins + 1
  std::vector<double> counts[2];  // per label value false / true, one per bin
  double auroc = 0;
};

// figures/spectrum: percent per label value over the shared bins.
void write_figures(Group& root, const analysis::UnitSpec& unit, const Results& results);

}  // namespace othrun::neuron_spectrum
