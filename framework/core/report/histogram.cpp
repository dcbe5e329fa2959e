// Histograms with overlaid groups. Both raw values and streamed counts end up as counts per bin,
// so the stored figure stays small and exact whatever the number of values.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <othrun/error.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

using detail::json;

void check_shape(const Histogram& histogram) {
  if (histogram.edges.size() < 2)
    throw Error("histogram '" + histogram.title + "': needs 2+ edges");
  for (const auto& group : histogram.groups) {
    if (group.counts.size() + 1 != histogram.edges.size()) {
      throw Error("histogram '" + histogram.title + "': group '" + group.name + "' has " +
                  std::to_string(group.counts.size()) + " counts for " +
                  std::to_string(histogram.edges.size() - 1) + " bins");
    }
  }
}

json group_trace(const Histogram& histogram, const BinnedGroup& group, size_t index) {
  const size_t bins = group.counts.size();
  std::vector<double> centres(bins), widths(bins), heights = group.counts;
  for (size_t i = 0; i < bins; ++i) {
    centres[i] = 0.5 * (histogram.edges[i] + histogram.edges[i + 1]);
    widths[i] = histogram.edges[i + 1] - histogram.edges[i];
  }
  if (histogram.norm == HistNorm::Percent) {
    const double total = std::accumulate(heights.begin(), heights.end(), 0.0);
    if (total > 0) {
      for (auto& h : heights) h *= 100.0 / total;
    }
  }
  return json{{"type", "bar"},
              {"name", group.name},
              {"x", centres},
              {"y", heights},
              {"width", widths},
              {"opacity", histogram.groups.size() > 1 ? 0.6 : 1.0},
              {"marker", {{"color", detail::palette(index)}, {"line", {{"width", 0}}}}},
              {"hovertemplate", "%{x:.4g}: %{y:.4g}<extra>%{fullData.name}</extra>"}};
}

}  // namespace

Histogram bin_values(std::string title, std::string x_title,
                     const std::vector<std::pair<std::string, std::vector<double>>>& groups,
                     int bins) {
  if (bins < 1) throw Error("histogram '" + title + "': bins must be at least 1");
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const auto& [name, values] : groups) {
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo > hi) lo = 0, hi = 1;
  if (lo == hi) lo -= 0.5, hi += 0.5;
  Histogram histogram;
  histogram.title = std::move(title);
  histogram.x_title = std::move(x_title);
  const double width = (hi - lo) / bins;
  for (int i = 0; i <= bins; ++i) histogram.edges.push_back(lo + width * i);
  histogram.edges.back() = hi;
  for (const auto& [name, values] : groups) {
    BinnedGroup group{name, std::vector<double>(static_cast<size_t>(bins), 0.0)};
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      // The last bin is closed on the right, so the maximum lands in it.
      const int bin = std::min(bins - 1, static_cast<int>((v - lo) / width));
      group.counts[static_cast<size_t>(bin)] += 1;
    }
    histogram.groups.push_back(std::move(group));
  }
  return histogram;
}

Figure histogram(std::string name, const Histogram& histogram, std::string caption) {
  check_shape(histogram);
  json data = json::array();
  for (size_t i = 0; i < histogram.groups.size(); ++i) {
    data.push_back(group_trace(histogram, histogram.groups[i], i));
  }
  json layout = detail::base_layout(histogram.title);
  layout["barmode"] = "overlay";
  layout["bargap"] = 0;
  layout["xaxis"] = detail::axis(histogram.x_title);
  layout["yaxis"] = detail::axis(histogram.norm == HistNorm::Percent ? "percent" : "count");
  if (histogram.groups.size() > 1) layout["legend"] = {{"title", {{"text", "group"}}}};
  return detail::make_figure(std::move(name), "histogram", histogram.title, std::move(caption),
                             std::move(data), std::move(layout));
}

}  // namespace othrun::report
