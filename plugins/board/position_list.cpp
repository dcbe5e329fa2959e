#include "position_list.hpp"

#include <charconv>
#include <sstream>

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
    std::istringstream words(entry);
    std::string game_word, game, ply_word, ply, rest;
    words >> game_word >> game >> ply_word >> ply;
    GamePly position;
    if (game_word != "game" || ply_word != "ply" || (words >> rest) ||
        !parse_number(game, position.game) || !parse_number(ply, position.ply) ||
        position.ply < 0 || position.ply > 59) {
      throw othrun::ConfigError("boards", "'" + entry +
                                              "' is not \"game G ply P\" (a game index and a "
                                              "ply 0..59, e.g. \"game 4 ply 20\")");
    }
    positions.push_back(position);
  }
  return positions;
}

}  // namespace board_plugin
