// An Othello position drawn as a board: discs as black/white squares on green, the move just
// played ringed in red, valid moves dotted.
#include <othrun/error.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

using detail::json;

const char* cell_name(int value) { return value > 0 ? "black" : value < 0 ? "white" : "empty"; }

// A scatter overlay of markers on the board's category axes.
json marker_trace(const std::string& name, const std::vector<int>& squares, json marker) {
  json x = json::array(), y = json::array();
  for (int s : squares) {
    if (s < 0 || s > 63)
      throw Error("othello board: square " + std::to_string(s) + " is not 0..63");
    x.push_back(std::to_string(s % 8));
    y.push_back(std::string(1, "ABCDEFGH"[s / 8]));
  }
  return json{{"type", "scatter"}, {"mode", "markers"},  {"name", name}, {"x", x}, {"y", y},
              {"marker", marker},  {"hoverinfo", "skip"}};
}

}  // namespace

Figure othello_board(std::string name, const Position& position, std::string title,
                     std::string caption) {
  json z = json::array(), text = json::array();
  for (int row = 0; row < 8; ++row) {
    json line = json::array(), words = json::array();
    for (int col = 0; col < 8; ++col) {
      const int value = position.cells[row * 8 + col];
      line.push_back(value > 0 ? 1 : value < 0 ? -1 : 0);
      words.push_back(cell_name(value));
    }
    z.push_back(std::move(line));
    text.push_back(std::move(words));
  }
  const json labels = detail::board_axes_labels();
  // Three flat bands: white (-1), board green (0), black (+1).
  const json scale = json::array({json::array({0.0, "#ffffff"}), json::array({0.33, "#ffffff"}),
                                  json::array({0.33, "#2e8b57"}), json::array({0.67, "#2e8b57"}),
                                  json::array({0.67, "#000000"}), json::array({1.0, "#000000"})});
  json board = {{"type", "heatmap"},  {"z", z},
                {"x", labels["x"]},   {"y", labels["y"]},
                {"zmin", -1},         {"zmax", 1},
                {"zauto", false},     {"colorscale", scale},
                {"showscale", false}, {"text", text},
                {"xgap", 2},          {"ygap", 2},
                {"name", "board"},    {"hovertemplate", "%{y}%{x}: %{text}<extra></extra>"}};
  json data = json::array({std::move(board)});
  if (!position.valid_moves.empty()) {
    data.push_back(marker_trace("valid moves", position.valid_moves,
                                {{"symbol", "circle"}, {"size", 12}, {"color", "#ffd700"}}));
  }
  if (position.last_move >= 0) {
    data.push_back(marker_trace(
        "last move", {position.last_move},
        {{"symbol", "circle-open"}, {"size", 34}, {"color", "#e41a1c"}, {"line", {{"width", 4}}}}));
  }
  json layout = detail::board_layout(title);
  layout["plot_bgcolor"] = "#1b5e20";
  layout["legend"] = {{"orientation", "h"}, {"y", -0.08}};
  return detail::make_figure(std::move(name), "board", std::move(title), std::move(caption),
                             std::move(data), std::move(layout));
}

}  // namespace othrun::report
