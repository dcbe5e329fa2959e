// Parsing the `positions` parameter of the board plugin: "GAME:PLY" entries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace board_plugin {

struct GamePly {
  std::uint64_t game = 0;
  int ply = 0;  // the position after move `ply` (0..59), as the notebooks' focus_states[game, ply]
};

// Parses "game 4 ply 20" entries; throws othrun::ConfigError("boards", ...) naming a bad entry.
std::vector<GamePly> parse_positions(const std::vector<std::string>& entries);

}  // namespace board_plugin
