#include "figures.hpp"
#include "notebook_figure.hpp"

#include <othrun/othello.hpp>
#include <othrun/report.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace othrun::max_activation {

namespace {

report::Board to_board(const std::vector<double>& v) {
  report::Board b{};
  std::copy_n(v.begin(), b.size(), b.begin());
  return b;
}

report::Figure mean_board(const analysis::UnitSpec& unit, const Results& r, bool absolute) {
  const std::string name = absolute ? "mean_abs_board" : "mean_board";
  const std::string caption = fmt::format(
      "Mean over the {} top examples ({}) of the board{} in the mine (+1) / theirs (-1) frame "
      "(mine_theirs: {}); dataset {}.",
      r.selected, r.selection, absolute ? "'s absolute value (occupancy)" : "", r.mine_theirs,
      name);
  const auto& values = absolute ? r.mean_abs_board : r.mean_board;
  report::Figure figure;
  if (unit.layer() >= 0) {
    figure = report::max_activation_board(name, to_board(values), unit.layer(),
                                          static_cast<int>(unit.index), absolute, caption);
  } else {
    report::HeatmapOptions options;
    options.scale = report::ColorScale::RdBu;
    options.midpoint = 0.0;
    std::string title = "Max activating dataset examples for " + unit.short_name();
    if (absolute) title += " (abs value)";
    figure = report::board_heatmap(name, to_board(values), title, options, caption);
  }
  figure.related = {absolute ? "mean_board" : "mean_abs_board", "active_moves"};
  return figure;
}

// One bar per square a move can be played on (the centre four never are), in square order.
report::Figure active_moves(const analysis::UnitSpec& unit, const Results& r) {
  std::vector<std::string> squares;
  report::Series counts{"positions", {}, {}, {}, {}};
  for (int s = 0; s < othello::kNumSquares; ++s) {
    if (othello::square_to_token(s) < 0) continue;
    squares.push_back(othello::square_label(s));
    counts.y.push_back(static_cast<double>(r.active_counts[static_cast<std::size_t>(s)]));
  }
  const report::Axes axes{"Current move when " + unit.short_name() + " activates",
                          "move just played", "positions with value > 0"};
  report::Figure figure = report::bar_chart(
      "active_moves", squares, {counts}, axes,
      fmt::format("The move just played at the {} positions where {} > 0 (dataset "
                  "active_moves/counts).",
                  r.active, unit.name()));
  figure.related = {"mean_board", "mean_abs_board"};
  return figure;
}

}  // namespace

void write_figures(Group& root, const analysis::UnitSpec& unit, const Results& results) {
  report::write_figure(root, mean_board(unit, results, false));
  report::write_figure(root, mean_board(unit, results, true));
  report::write_figure(root, active_moves(unit, results));
}

}  // namespace othrun::max_activation
