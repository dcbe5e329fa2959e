#include "notebook_figure.hpp"

#include <fmt/format.h>

namespace othrun::report {

Figure probe_accuracy_board(std::string name, const Board& accuracy, std::string title,
                            std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::Blues;
  options.zmin = 0.0;
  options.zmax = 1.0;
  options.colorbar_title = "accuracy";
  return board_heatmap(std::move(name), accuracy, std::move(title), options, std::move(caption));
}

}  // namespace othrun::report
