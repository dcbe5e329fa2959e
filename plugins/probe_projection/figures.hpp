// The report figures of probe_projection: probe accuracy per square and per move number.
#pragma once

#include <othrun/store.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::probe_projection {

struct Results {
  std::string hook;
  std::vector<double> per_square;         // 64, NaN where nothing was counted
  std::vector<double> per_position;       // one per stored position, NaN outside accuracy_positions
  std::vector<std::int64_t> position_of;  // the model position of each per_position entry
  std::vector<std::int64_t> positions;    // accuracy_positions [first, last]
  double overall = 0;
};

// figures/accuracy_board and figures/accuracy_by_position.
void write_figures(Group& root, const Results& results);

}  // namespace othrun::probe_projection
