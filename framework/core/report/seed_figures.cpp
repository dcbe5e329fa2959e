// The seed notebook's figures, with the notebook's titles, scales and axis names.
#include <fmt/format.h>

#include <algorithm>

#include <othrun/error.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

// The four centre squares are never moves: the notebook paints them -13; we leave them blank.
constexpr std::array<int, 4> kCentre = {27, 28, 35, 36};

}  // namespace

std::string square_label(int square) {
  if (square < 0 || square > 63) throw Error("square " + std::to_string(square) + " is not 0..63");
  return std::string(1, "ABCDEFGH"[square / 8]) + std::to_string(square % 8);
}

Figure log_prob_board(std::string name, const Board& log_probs, std::string title,
                      std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::Blues;
  options.zmax = 0.0;
  for (int s : kCentre) options.masked[s] = true;
  options.colorbar_title = "log prob";
  return board_heatmap(std::move(name), log_probs, std::move(title), options, std::move(caption));
}

Figure max_activation_board(std::string name, const Board& mean_board, int layer, int neuron,
                            bool absolute, std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::RdBu;
  options.midpoint = 0.0;
  std::string title = fmt::format("Max activating dataset examples for L{}N{}", layer, neuron);
  if (absolute) title += " (abs value)";
  return board_heatmap(std::move(name), mean_board, std::move(title), options, std::move(caption));
}

Figure spectrum_histogram(std::string name, Histogram histogram, std::string caption) {
  Figure figure = report::histogram(std::move(name), histogram, std::move(caption));
  figure.kind = "spectrum";
  return figure;
}

Figure correlation_histogram(std::string name, Histogram histogram, std::string caption) {
  Figure figure = report::histogram(std::move(name), histogram, std::move(caption));
  figure.kind = "correlation_histogram";
  return figure;
}

Figure pair_counts_bars(std::string name, const PairCounts& pair, std::string caption) {
  const std::string label =
      pair.square_label.empty() ? square_label(pair.square) : pair.square_label;
  const std::string state = pair.state.empty() ? "Empty" : pair.state;
  Series empty{state, {}, {double(pair.silent_empty), double(pair.fired_empty)}, {}, "blue"};
  Series not_empty{
      "Not " + state, {}, {double(pair.silent_not_empty), double(pair.fired_not_empty)}, {}, "red"};
  const Axes axes{fmt::format("Feature {} vs Is{}({})", pair.feature, state, label),
                  "Feature fired?", "Count"};
  Figure figure =
      bar_chart(std::move(name), {"False", "True"}, {empty, not_empty}, axes, std::move(caption));
  // The notebook's figure is 600 px wide.
  auto json = detail::json::parse(figure.plotly_json);
  json["layout"]["width"] = 600;
  figure.plotly_json = json.dump();
  figure.kind = "pair_counts";
  return figure;
}

Figure top_pairs_table(std::string name, const std::vector<PairCounts>& pairs,
                       const std::vector<std::string>& bar_names, std::string caption) {
  if (!bar_names.empty() && bar_names.size() != pairs.size()) {
    throw Error("top pairs table: one bar chart name per pair, or none");
  }
  const bool states =
      std::any_of(pairs.begin(), pairs.end(), [](const PairCounts& p) { return !p.state.empty(); });
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& pair = pairs[i];
    const std::string label =
        pair.square_label.empty() ? square_label(pair.square) : pair.square_label;
    std::vector<std::string> row{std::to_string(i + 1), std::to_string(pair.feature), label};
    if (states) row.push_back(pair.state.empty() ? "Empty" : pair.state);
    row.push_back(fmt::format("{:.4f}", pair.correlation));
    row.push_back(bar_names.empty() ? std::string() : bar_names[i]);
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header{"rank", "feature", "square"};
  if (states) header.push_back("state");
  header.insert(header.end(), {"correlation", "2x2 counts"});
  Figure figure = table(
      std::move(name),
      states ? "Top (feature, square, state) pairs" : "Top (feature, square) pairs by correlation",
      header, rows, std::move(caption));
  figure.related = bar_names;
  return figure;
}

Figure probe_accuracy_board(std::string name, const Board& accuracy, std::string title,
                            std::string caption) {
  HeatmapOptions options;
  options.scale = ColorScale::Blues;
  options.zmin = 0.0;
  options.zmax = 1.0;
  options.colorbar_title = "accuracy";
  return board_heatmap(std::move(name), accuracy, std::move(title), options, std::move(caption));
}

}  // namespace othrun::report
