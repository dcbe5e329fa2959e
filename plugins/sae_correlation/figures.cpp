#include "figures.hpp"
#include "notebook_figures.hpp"

#include <othrun/report.hpp>

#include <fmt/format.h>

namespace othrun::sae_correlation {

namespace {

// The title and legend name of a state ("Mine" gives "IsMine(E3)" and "Not Mine").
std::string state_title(int state) {
  static const char* const names[] = {"Empty", "Theirs", "Mine"};
  return names[state];
}

report::PairCounts pair_counts(const Pair& p, bool notebook) {
  report::PairCounts c{};
  c.feature = p.feature;
  c.square = p.square;
  // The notebook names squares through its 60-entry token-label list (docs/analyses.md).
  c.square_label = notebook ? notebook_square_label(p.square) : othello::square_label(p.square);
  c.correlation = p.score;
  c.fired_empty = p.counts[1][1];
  c.silent_empty = p.counts[1][0];
  c.fired_not_empty = p.counts[0][1];
  c.silent_not_empty = p.counts[0][0];
  if (!notebook) c.state = state_title(p.state);
  return c;
}

report::Figure correlation_histogram(const analysis::Histogram& hist, const Options& options) {
  report::Histogram h;
  const bool nb = options.notebook_compat;
  h.title = nb ? "Correlation between feature acts and is_empty"
               : "Correlation between feature firing and square state";
  h.x_title = nb ? "corr(acts == 0, state < 0)" : "firing_corr";
  h.edges = hist.edges();
  h.groups = {{"pairs", hist.counts()}};
  const std::string caption =
      nb ? "The notebook's histogram (100 bins over [-1, 1] here) of corrcoef(acts == 0, "
           "state < 0) over every (feature, square): it correlates the feature NOT firing with "
           "the square being white, not empty (docs/analyses.md). Dataset histogram/counts."
         : "Pearson correlation of 'feature fired (> 0)' with 'square in state' over every "
           "(feature, square, state), state empty / theirs / mine. Dataset histogram/counts.";
  report::Figure figure =
      report::correlation_histogram("correlation_histogram", std::move(h), caption);
  figure.related = {"top_pairs"};
  return figure;
}

}  // namespace

void write_figures(Group& root, const analysis::Histogram& histogram,
                   const std::vector<Pair>& pairs, const Options& options) {
  const bool nb = options.notebook_compat;
  report::write_figure(root, correlation_histogram(histogram, options));
  std::vector<report::PairCounts> counts;
  for (const auto& pair : pairs) counts.push_back(pair_counts(pair, nb));
  const std::string counts_name = counts.empty() ? "" : "pair_counts";
  report::Figure table = report::top_pairs_table(
      "top_pairs", counts, counts_name,
      nb ? "The notebook's top pairs: topk of corr(acts == 0, state < 0) over [d_sae, 64], square "
           "names from its 60-entry label list. Each links to its 2x2 counts, which use "
           "state == 0 (empty). Datasets notebook/top_pairs."
         : fmt::format("The top (feature, square, state) pairs by {} (the 'correlation' column), "
                       "each linked to its 2x2 counts. Datasets top_pairs.",
                       options.rank_by));
  table.related.push_back("correlation_histogram");
  report::write_figure(root, table);
  if (counts.empty()) return;
  report::Figure grid = report::pair_counts_grid(
      counts_name, counts,
      fmt::format("One panel per top pair, in rank order (left to right, top to bottom): rows "
                  "(game, position) by whether the feature fired (> 0) and whether the square is "
                  "{}. Each panel has its own count axis. Datasets {}/counts.",
                  nb ? std::string("empty") : std::string("in the pair's state"),
                  nb ? "notebook/top_pairs" : "top_pairs"));
  grid.related = {"top_pairs"};
  report::write_figure(root, grid);
}

}  // namespace othrun::sae_correlation
