#include "figures.hpp"
#include "notebook_figure.hpp"

#include <othrun/report.hpp>

#include <fmt/format.h>

#include <algorithm>

#include <cmath>

namespace othrun::probe_projection {

void write_figures(Group& root, const Results& r) {
  report::Board board{};
  std::copy_n(r.per_square.begin(), board.size(), board.begin());
  report::Figure squares = report::probe_accuracy_board(
      "accuracy_board", board, "Probe accuracy per square on " + r.hook,
      fmt::format("Fraction of (game, position) at positions {}..{} where the argmax of the "
                  "collapsed probe (blank / theirs / mine) equals the true state; overall {:.4f}. "
                  "Dataset accuracy/per_square.",
                  r.positions.at(0), r.positions.at(1), r.overall));
  squares.related = {"accuracy_by_position"};
  report::write_figure(root, squares);

  report::Series series{"accuracy", {}, {}, {}, {}};
  for (std::size_t p = 0; p < r.per_position.size(); ++p) {
    if (std::isnan(r.per_position[p])) continue;  // outside accuracy_positions
    series.x.push_back(static_cast<double>(r.position_of.at(p)));
    series.y.push_back(r.per_position[p]);
  }
  report::Figure moves = report::line_chart(
      "accuracy_by_position", {series},
      {"Probe accuracy by move number on " + r.hook, "position t (the board after move t)",
       "accuracy"},
      "Probe accuracy over all squares at each position (dataset accuracy/per_position).");
  moves.related = {"accuracy_board"};
  report::write_figure(root, moves);
}

}  // namespace othrun::probe_projection
