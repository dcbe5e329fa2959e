#include "notebook_figures.hpp"

#include <algorithm>

#include <othrun/error.hpp>

#include <fmt/format.h>

namespace othrun::report {

Figure correlation_histogram(std::string name, Histogram histogram, std::string caption) {
  Figure figure = report::histogram(std::move(name), histogram, std::move(caption));
  figure.kind = "correlation_histogram";
  return figure;
}

namespace {

std::string pair_square(const PairCounts& pair) {
  return pair.square_label.empty() ? square_label(pair.square) : pair.square_label;
}

std::string pair_state(const PairCounts& pair) { return pair.state.empty() ? "Empty" : pair.state; }

}  // namespace

Figure pair_counts_grid(std::string name, const std::vector<PairCounts>& pairs,
                        std::string caption) {
  if (pairs.empty()) throw Error("pair counts: no pairs");
  PanelGrid grid;
  grid.title = "Feature fired? x square state, top pairs";
  grid.x_title = "Feature fired?";
  grid.y_title = "Count";
  grid.categories = {"False", "True"};
  grid.columns = 5;
  // The legend names the notebook's Empty / Not Empty when every pair has one state; each panel's
  // title names its own state either way.
  const std::string first = pair_state(pairs.front());
  const bool one_state = std::all_of(
      pairs.begin(), pairs.end(), [&first](const PairCounts& p) { return pair_state(p) == first; });
  std::vector<Panel> panels;
  for (const auto& pair : pairs) {
    const std::string state = pair_state(pair);
    Series in_state{one_state ? state : "in state",
                    {},
                    {double(pair.silent_empty), double(pair.fired_empty)},
                    {},
                    "blue"};
    Series not_in_state{one_state ? "Not " + state : "not in state",
                        {},
                        {double(pair.silent_not_empty), double(pair.fired_not_empty)},
                        {},
                        "red"};
    panels.push_back({fmt::format("F{} vs Is{}({})", pair.feature, state, pair_square(pair)),
                      {in_state, not_in_state}});
  }
  Figure figure =
      small_multiples(std::move(name), PanelKind::Bars, grid, panels, std::move(caption));
  figure.kind = "pair_counts";
  return figure;
}

Figure top_pairs_table(std::string name, const std::vector<PairCounts>& pairs,
                       const std::string& counts_figure, std::string caption) {
  const bool states =
      std::any_of(pairs.begin(), pairs.end(), [](const PairCounts& p) { return !p.state.empty(); });
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& pair = pairs[i];
    std::vector<std::string> row{std::to_string(i + 1), std::to_string(pair.feature),
                                 pair_square(pair)};
    if (states) row.push_back(pair_state(pair));
    row.push_back(fmt::format("{:.4f}", pair.correlation));
    row.push_back(counts_figure);
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header{"rank", "feature", "square"};
  if (states) header.push_back("state");
  header.insert(header.end(), {"correlation", "2x2 counts"});
  Figure figure = table(
      std::move(name),
      states ? "Top (feature, square, state) pairs" : "Top (feature, square) pairs by correlation",
      header, rows, std::move(caption));
  if (!counts_figure.empty()) figure.related = {counts_figure};
  return figure;
}

}  // namespace othrun::report
