// The 8x8 board heatmap: rows A..H top to bottom, columns 0..7, equal aspect.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include <othrun/error.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

using detail::json;

struct Range {
  double zmin, zmax;
};

// The colour range: given ends win; missing ends come from the unmasked data, made symmetric
// around the midpoint when there is one (plotly ignores zmid once zmin/zmax are fixed).
Range colour_range(const Board& values, const HeatmapOptions& options) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (int s = 0; s < 64; ++s) {
    if (options.masked[s] || !std::isfinite(values[s])) continue;
    lo = std::min(lo, values[s]);
    hi = std::max(hi, values[s]);
  }
  if (lo > hi) lo = 0, hi = 1;
  if (options.midpoint) {
    const double mid = *options.midpoint;
    double half = std::max(std::abs(lo - mid), std::abs(hi - mid));
    if (half == 0) half = 1;
    lo = mid - half;
    hi = mid + half;
  }
  Range range{options.zmin.value_or(lo), options.zmax.value_or(hi)};
  if (options.zmin && !options.zmax && range.zmax <= range.zmin) range.zmax = range.zmin + 1;
  if (range.zmax <= range.zmin) range.zmin = range.zmax - 1;
  return range;
}

json board_rows(const Board& values, const std::array<bool, 64>& masked) {
  json z = json::array();
  for (int row = 0; row < 8; ++row) {
    json line = json::array();
    for (int col = 0; col < 8; ++col) {
      const int s = row * 8 + col;
      // null draws a gap: masked and non-finite squares are left blank.
      if (masked[s] || !std::isfinite(values[s])) {
        line.push_back(nullptr);
      } else {
        line.push_back(values[s]);
      }
    }
    z.push_back(std::move(line));
  }
  return z;
}

json hover_rows(const std::vector<std::string>& hover) {
  if (hover.size() != 64) throw Error("board heatmap: hover needs 64 entries");
  json text = json::array();
  for (int row = 0; row < 8; ++row) {
    text.push_back(
        json(std::vector<std::string>(hover.begin() + row * 8, hover.begin() + row * 8 + 8)));
  }
  return text;
}

// "Colours span 0.7012 to 0.9987 (the data's range)." appended to every heatmap's caption, so a
// reader knows what the darkest and lightest squares mean without hovering.
std::string range_statement(const Range& range, const HeatmapOptions& options) {
  std::string source;
  if (options.zmin && options.zmax) {
    source = "fixed";
  } else if (options.zmin || options.zmax) {
    source = fmt::format("{} fixed at {:.4g}, the other end from the data",
                         options.zmin ? "low end" : "high end",
                         options.zmin ? *options.zmin : *options.zmax);
  } else if (options.midpoint) {
    source = fmt::format("fitted to the data, symmetric around {:.4g}", *options.midpoint);
  } else {
    source = "the data's range";
  }
  return fmt::format("Colours span {:.4g} to {:.4g} ({}).", range.zmin, range.zmax, source);
}

}  // namespace

namespace detail {

// Category axes so that "0".."7" are not read as numbers; A at the top, as the notebooks draw it.
json board_layout(const std::string& title) {
  json layout = base_layout(title);
  layout["xaxis"] = {{"type", "category"}, {"constrain", "domain"}};
  layout["yaxis"] = {{"type", "category"},
                     {"autorange", "reversed"},
                     {"scaleanchor", "x"},
                     {"constrain", "domain"}};
  layout["width"] = 520;
  layout["height"] = 480;
  return layout;
}

json board_axes_labels() {
  return json{{"x", {"0", "1", "2", "3", "4", "5", "6", "7"}},
              {"y", {"A", "B", "C", "D", "E", "F", "G", "H"}}};
}

}  // namespace detail

Figure board_heatmap(std::string name, const Board& values, std::string title,
                     const HeatmapOptions& options, std::string caption) {
  const Range range = colour_range(values, options);
  const json labels = detail::board_axes_labels();
  json trace = {{"type", "heatmap"},
                {"z", board_rows(values, options.masked)},
                {"x", labels["x"]},
                {"y", labels["y"]},
                {"colorscale", detail::colorscale(options.scale)},
                {"zmin", range.zmin},
                {"zmax", range.zmax},
                {"zauto", false},
                {"hoverongaps", false},
                {"hovertemplate", "%{y}%{x}: %{z:.4g}<extra></extra>"}};
  if (options.midpoint) trace["zmid"] = *options.midpoint;
  if (!options.colorbar_title.empty()) {
    trace["colorbar"] = {{"title", {{"text", options.colorbar_title}}}};
  }
  if (!options.hover.empty()) {
    trace["text"] = hover_rows(options.hover);
    trace["hovertemplate"] = "%{y}%{x}: %{z:.4g}<br>%{text}<extra></extra>";
  }
  json layout = detail::board_layout(title);
  caption += (caption.empty() ? "" : " ") + range_statement(range, options);
  return detail::make_figure(std::move(name), "heatmap", std::move(title), std::move(caption),
                             json::array({std::move(trace)}), std::move(layout));
}

}  // namespace othrun::report
