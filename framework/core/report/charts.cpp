// Bar, line and scatter charts and tables.
#include <othrun/error.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

using detail::json;

json xy_layout(const Axes& axes) {
  json layout = detail::base_layout(axes.title);
  layout["xaxis"] = detail::axis(axes.x_title);
  layout["yaxis"] = detail::axis(axes.y_title);
  return layout;
}

json series_trace(const Series& series, size_t index, const std::string& mode) {
  if (series.x.size() != series.y.size()) {
    throw Error("series '" + series.name + "': x and y differ in length");
  }
  const std::string colour = series.color.empty() ? detail::palette(index) : series.color;
  json trace = {{"type", "scatter"}, {"mode", mode},  {"name", series.name},
                {"x", series.x},     {"y", series.y}, {"marker", {{"color", colour}}}};
  if (mode == "lines") trace["line"] = {{"color", colour}};
  if (!series.text.empty()) trace["text"] = series.text;
  return trace;
}

Figure xy_figure(std::string name, const char* kind, const std::string& mode,
                 const std::vector<Series>& series, const Axes& axes, std::string caption) {
  json data = json::array();
  for (size_t i = 0; i < series.size(); ++i) data.push_back(series_trace(series[i], i, mode));
  return detail::make_figure(std::move(name), kind, axes.title, std::move(caption), std::move(data),
                             xy_layout(axes));
}

}  // namespace

Figure bar_chart(std::string name, const std::vector<std::string>& categories,
                 const std::vector<Series>& series, const Axes& axes, std::string caption) {
  json data = json::array();
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].y.size() != categories.size()) {
      throw Error("bar chart '" + axes.title + "': series '" + series[i].name +
                  "' needs one value per category");
    }
    json trace = {
        {"type", "bar"},
        {"name", series[i].name},
        {"x", categories},
        {"y", series[i].y},
        {"marker", {{"color", series[i].color.empty() ? detail::palette(i) : series[i].color}}}};
    if (!series[i].text.empty()) trace["text"] = series[i].text;
    data.push_back(std::move(trace));
  }
  json layout = xy_layout(axes);
  layout["barmode"] = "group";
  // Category axis: labels such as "False"/"True" or "0" stay labels.
  layout["xaxis"]["type"] = "category";
  return detail::make_figure(std::move(name), "bar", axes.title, std::move(caption),
                             std::move(data), std::move(layout));
}

Figure line_chart(std::string name, const std::vector<Series>& series, const Axes& axes,
                  std::string caption) {
  return xy_figure(std::move(name), "line", "lines", series, axes, std::move(caption));
}

Figure scatter_plot(std::string name, const std::vector<Series>& series, const Axes& axes,
                    std::string caption) {
  return xy_figure(std::move(name), "scatter", "markers", series, axes, std::move(caption));
}

Figure table(std::string name, std::string title, const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows, std::string caption) {
  // Plotly's table trace takes columns, not rows.
  json columns = json::array();
  for (size_t c = 0; c < header.size(); ++c) {
    json column = json::array();
    for (const auto& row : rows) {
      if (row.size() != header.size()) {
        throw Error("table '" + title + "': every row needs " + std::to_string(header.size()) +
                    " cells");
      }
      column.push_back(row[c]);
    }
    columns.push_back(std::move(column));
  }
  json trace = {{"type", "table"},
                {"header", {{"values", header}}},
                {"cells", {{"values", std::move(columns)}}}};
  return detail::make_figure(std::move(name), "table", title, std::move(caption),
                             json::array({std::move(trace)}), detail::base_layout(title));
}

}  // namespace othrun::report
