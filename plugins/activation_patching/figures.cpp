#include "figures.hpp"

#include <othrun/report.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace othrun::patching {

namespace {

using nlohmann::json;

std::string what_is_patched(const std::string& kind) {
  if (kind == "head_out") return "one attention head's output (its hook_z, at every position)";
  return fmt::format("hook_{} at one position", kind);
}

// NaN cells become null: Plotly leaves them blank.
json matrix(const std::vector<double>& values, std::size_t rows, std::size_t cols) {
  json z = json::array();
  for (std::size_t r = 0; r < rows; ++r) {
    json row = json::array();
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = values[r * cols + c];
      row.push_back(std::isnan(v) ? json(nullptr) : json(v));
    }
    z.push_back(std::move(row));
  }
  return z;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace

void write_heatmap(Group& root, const std::string& kind, const ResultInfo& info,
                   const std::vector<double>& scores, const SweepResult& sweep,
                   std::uint64_t n_pairs) {
  const bool heads = is_head_kind(kind);
  const std::size_t rows = info.layers.size();
  const std::size_t cols =
      heads ? static_cast<std::size_t>(info.n_heads) : static_cast<std::size_t>(sweep.n_positions);
  json x = json::array(), y = json::array();
  for (std::size_t c = 0; c < cols; ++c) x.push_back(c);
  for (std::int64_t layer : info.layers) y.push_back(layer);
  const std::string x_title = heads ? "head" : "position (the input token at it is patched)";
  const std::string title = heads ? "Activation patching: attention heads [layer, head]"
                                  : fmt::format("Activation patching: {} [layer, position]", kind);
  json trace = {{"type", "heatmap"},
                {"z", matrix(scores, rows, cols)},
                {"x", x},
                {"y", y},
                {"colorscale", "RdBu"},
                {"zmid", 0.0},
                {"colorbar", {{"title", {{"text", "normalised"}}}}},
                {"hovertemplate", "layer %{y}, " + std::string(heads ? "head" : "position") +
                                      " %{x}: %{z:.3f}<extra></extra>"}};
  json layout = {{"title", {{"text", title}}},
                 {"xaxis", {{"title", {{"text", x_title}}}}},
                 {"yaxis", {{"title", {{"text", "layer"}}}, {"dtick", 1}}}};
  report::Figure figure;
  figure.name = kind + "_heatmap";
  figure.kind = "heatmap";
  figure.title = title;
  figure.caption = fmt::format(
      "Normalised {} metric when {} of the clean game is patched into the corrupted run, mean over "
      "{} pairs: (patched - corrupted) / (clean - corrupted), so 0 = the corrupted run and 1 = the "
      "clean run (mean clean {:.4f}, mean corrupted {:.4f}). Datasets {}/score and {}/patched.",
      to_string(info.metric), what_is_patched(kind), n_pairs, mean_of(sweep.clean),
      mean_of(sweep.corrupted), kind, kind);
  figure.plotly_json = json{{"data", json::array({trace})}, {"layout", layout}}.dump();
  report::write_figure(root, figure);
}

}  // namespace othrun::patching
