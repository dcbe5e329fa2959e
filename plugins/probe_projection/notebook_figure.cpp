#include "notebook_figure.hpp"

#include <fmt/format.h>

namespace othrun::report {

Figure probe_accuracy_board(std::string name, const Board& accuracy, std::string title,
                            std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::Blues;
  // Fitted to the data (the shipped probe spans about 0.7..1): a fixed 0..1 would leave the
  // board almost uniformly dark. The caption states the range.
  options.colorbar_title = "accuracy";
  return board_heatmap(std::move(name), accuracy, std::move(title), options, std::move(caption));
}

}  // namespace othrun::report
