#include "figures.hpp"
#include "notebook_figure.hpp"

#include <othrun/report.hpp>

#include <fmt/format.h>

namespace othrun::neuron_spectrum {

void write_figures(Group& root, const analysis::UnitSpec& unit, const Results& results) {
  report::Histogram histogram;
  histogram.title = fmt::format("{} spectrum plot testing {}", unit.short_name(), results.label);
  histogram.x_title = unit.name();
  histogram.edges = results.edges;
  histogram.norm = report::HistNorm::Percent;
  // The notebook colours by the boolean label column: groups False and True.
  histogram.groups = {{"False", results.counts[0]}, {"True", results.counts[1]}};
  report::write_figure(
      root, report::spectrum_histogram(
                "spectrum", std::move(histogram),
                fmt::format("Histogram of {} over every (game, position), as a percentage of each "
                            "group, split by {} (datasets edges, percent). AUROC of the value "
                            "for the label: {:.4f}.",
                            unit.name(), results.label, results.auroc)));
}

}  // namespace othrun::neuron_spectrum
