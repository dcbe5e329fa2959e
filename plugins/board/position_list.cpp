#include "position_list.hpp"

#include <charconv>

#include <othrun/error.hpp>

namespace board_plugin {
namespace {

template <class T>
bool parse_number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, out);
  return !text.empty() && result.ec == std::errc() && result.ptr == end;
}

}  // namespace

std::vector<GamePly> parse_positions(const std::vector<std::string>& entries) {
  std::vector<GamePly> positions;
  for (const auto& entry : entries) {
    const auto colon = entry.find(':');
    GamePly position;
    if (colon == std::string::npos || !parse_number(entry.substr(0, colon), position.game) ||
        !parse_number(entry.substr(colon + 1), position.ply) || position.ply < 0 ||
        position.ply > 59) {
      throw othrun::ConfigError("positions", "'" + entry +
                                                 "' is not GAME:PLY (a game index and a ply "
                                                 "0..59, e.g. \"4:20\")");
    }
    positions.push_back(position);
  }
  return positions;
}

}  // namespace board_plugin
