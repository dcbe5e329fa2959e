#include "notebook_figures.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include <othrun/error.hpp>

#include <fmt/format.h>

namespace othrun::report {

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
  auto json = nlohmann::json::parse(figure.plotly_json);
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

}  // namespace othrun::report
