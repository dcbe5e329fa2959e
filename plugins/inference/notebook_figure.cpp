#include "notebook_figure.hpp"

#include <array>

namespace othrun::report {

namespace {

// The four centre squares are never moves: the notebook paints them -13; we leave them blank.
constexpr std::array<int, 4> kCentre = {27, 28, 35, 36};

}  // namespace

Figure log_prob_board(std::string name, const Board& log_probs, std::string title,
                      std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::Blues;
  options.zmax = 0.0;
  for (int s : kCentre) options.masked[s] = true;
  options.colorbar_title = "log prob";
  return board_heatmap(std::move(name), log_probs, std::move(title), options, std::move(caption));
}

}  // namespace othrun::report
