#include "notebook_figure.hpp"

#include <fmt/format.h>

namespace othrun::report {

Figure max_activation_board(std::string name, const Board& mean_board, int layer, int neuron,
                            bool absolute, std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::RdBu;
  options.midpoint = 0.0;
  std::string title = fmt::format("Max activating dataset examples for L{}N{}", layer, neuron);
  if (absolute) title += " (abs value)";
  return board_heatmap(std::move(name), mean_board, std::move(title), options, std::move(caption));
}

}  // namespace othrun::report
