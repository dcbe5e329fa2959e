// Small multiples: a grid of small charts in one figure, one Plotly axis pair per panel.
#include <algorithm>

#include <othrun/error.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

using detail::json;

// Pixels of the figure outside the panels, and between them for titles and tick labels.
constexpr int kTop = 90;            // figure title, then the first row's panel titles
constexpr int kBottom = 85;         // tick labels, x title, legend
constexpr int kTitleGap = 24;       // a panel title above each row but the first
constexpr int kTicksGap = 22;       // tick labels below each row but the last
constexpr double kLeftGap = 0.045;  // of the width, left of each panel: its y tick labels
constexpr double kRightGap = 0.012;

struct Cell {
  double x0, x1, y0, y1;  // paper fractions
};

Cell cell(int index, int rows, int columns, int panel_height) {
  const int row = index / columns, column = index % columns;
  const double plot_height = double(rows) * panel_height;
  const double top = 1.0 - double(row) / rows - (row > 0 ? kTitleGap / plot_height : 0.0);
  const double bottom =
      1.0 - double(row + 1) / rows + (row + 1 < rows ? kTicksGap / plot_height : 0.0);
  return {double(column) / columns + kLeftGap, double(column + 1) / columns - kRightGap, bottom,
          top};
}

// Plotly's axis ids: "x", "x2", ... (and "y", "y2", ...) for panels 0, 1, ...
std::string axis_id(char letter, int index) {
  std::string id(1, letter);
  if (index > 0) id += std::to_string(index + 1);
  return id;
}

// Their layout keys: "xaxis", "xaxis2", ...
std::string axis_key(char letter, int index) {
  std::string key(1, letter);
  key += "axis";
  if (index > 0) key += std::to_string(index + 1);
  return key;
}

json panel_trace(PanelKind kind, const PanelGrid& grid, const Series& series, size_t s, int index) {
  const std::string colour = series.color.empty() ? detail::palette(s) : series.color;
  json trace = {{"name", series.name},          {"legendgroup", series.name},
                {"showlegend", index == 0},     {"xaxis", axis_id('x', index)},
                {"yaxis", axis_id('y', index)}, {"y", series.y},
                {"marker", {{"color", colour}}}};
  if (kind == PanelKind::Bars) {
    if (series.y.size() != grid.categories.size()) {
      throw Error("small multiples '" + grid.title + "': series '" + series.name +
                  "' needs one value per category");
    }
    trace["type"] = "bar";
    trace["x"] = grid.categories;
  } else {
    if (series.x.size() != series.y.size()) {
      throw Error("small multiples '" + grid.title + "': series '" + series.name +
                  "': x and y differ in length");
    }
    trace["type"] = "scatter";
    trace["mode"] = "lines+markers";
    trace["x"] = series.x;
    trace["line"] = {{"color", colour}};
  }
  if (!series.text.empty()) trace["text"] = series.text;
  return trace;
}

void add_axes(json& layout, PanelKind kind, const PanelGrid& grid, const Panel& panel, int index,
              const Cell& c, bool bottom_row, bool first_column) {
  json x = {
      {"domain", {c.x0, c.x1}}, {"anchor", axis_id('y', index)}, {"tickfont", {{"size", 10}}}};
  if (kind == PanelKind::Bars) x["type"] = "category";
  if (kind == PanelKind::Lines && grid.log_x) {
    // Ticks at the data's x values: plotly's own log ticks (2, 3, ... 1000) say little here.
    std::vector<double> ticks;
    for (const auto& series : panel.series)
      ticks.insert(ticks.end(), series.x.begin(), series.x.end());
    std::sort(ticks.begin(), ticks.end());
    ticks.erase(std::unique(ticks.begin(), ticks.end()), ticks.end());
    x["type"] = "log";
    x["tickmode"] = "array";
    x["tickvals"] = ticks;
  }
  if (bottom_row && !grid.x_title.empty()) x["title"] = {{"text", grid.x_title}};
  json y = {
      {"domain", {c.y0, c.y1}}, {"anchor", axis_id('x', index)}, {"tickfont", {{"size", 10}}}};
  if (kind == PanelKind::Bars) y["rangemode"] = "tozero";
  if (first_column && !grid.y_title.empty()) y["title"] = {{"text", grid.y_title}};
  layout[axis_key('x', index)] = std::move(x);
  layout[axis_key('y', index)] = std::move(y);
}

}  // namespace

Figure small_multiples(std::string name, PanelKind kind, const PanelGrid& grid,
                       const std::vector<Panel>& panels, std::string caption) {
  if (panels.empty()) throw Error("small multiples '" + grid.title + "': no panels");
  if (grid.columns < 1 || grid.panel_height < 50) {
    throw Error("small multiples '" + grid.title + "': columns >= 1 and panel_height >= 50");
  }
  const int count = static_cast<int>(panels.size());
  const int columns = std::min(grid.columns, count);
  const int rows = (count + columns - 1) / columns;
  json data = json::array();
  json layout = detail::base_layout(grid.title);
  layout["height"] = kTop + rows * grid.panel_height + kBottom;
  layout["margin"] = {{"l", 50}, {"r", 20}, {"t", kTop}, {"b", kBottom}};
  layout["font"] = {{"size", 11}};
  if (kind == PanelKind::Bars) layout["barmode"] = "group";
  // The legend below the panels, clear of the titles at the top (and of plotly's toolbar).
  layout["legend"] = {{"orientation", "h"},  {"x", 0},
                      {"xanchor", "left"},   {"y", 0},
                      {"yref", "container"}, {"yanchor", "bottom"}};
  json titles = json::array();
  for (int i = 0; i < count; ++i) {
    const Cell c = cell(i, rows, columns, grid.panel_height);
    for (size_t s = 0; s < panels[i].series.size(); ++s) {
      data.push_back(panel_trace(kind, grid, panels[i].series[s], s, i));
    }
    add_axes(layout, kind, grid, panels[i], i, c, i + columns >= count, i % columns == 0);
    titles.push_back({{"text", panels[i].title},
                      {"x", (c.x0 + c.x1) / 2},
                      {"y", c.y1},
                      {"xref", "paper"},
                      {"yref", "paper"},
                      {"xanchor", "center"},
                      {"yanchor", "bottom"},
                      {"showarrow", false},
                      {"font", {{"size", 11}}}});
  }
  layout["annotations"] = std::move(titles);
  return detail::make_figure(std::move(name), "small_multiples", grid.title, std::move(caption),
                             std::move(data), std::move(layout));
}

}  // namespace othrun::report
