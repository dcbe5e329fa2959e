// The report figures of max_activation: the seed notebook's mean boards and the moves played.
#pragma once

#include <othrun/analysis/units.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <vector>

namespace othrun::max_activation {

struct Results {
  std::vector<double> mean_board, mean_abs_board;  // 64 each, mine +1 / theirs -1
  std::uint64_t selected = 0;                      // examples averaged
  std::string selection;                           // how they were chosen, for the caption
  std::string mine_theirs;                         // the convention, for the caption
  std::vector<std::int64_t> active_counts;         // 64: positions > 0 by move just played
  std::int64_t active = 0;
};

// figures/mean_board, figures/mean_abs_board, figures/active_moves.
void write_figures(Group& root, const analysis::UnitSpec& unit, const Results& results);

}  // namespace othrun::max_activation
