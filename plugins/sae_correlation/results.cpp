// Writing sae_correlation's results (docs/analyses.md, "sae_correlation").
#include "correlation.hpp"
#include "figures.hpp"

#include <othrun/analysis/stats.hpp>
#include <othrun/othello.hpp>

#include <cmath>

namespace othrun::sae_correlation {

using analysis::FeatureClassStats;
using analysis::kClasses;

namespace {

std::vector<std::string> state_names(const Options& options) {
  if (options.notebook_compat) return {"empty", "white", "black"};
  return {"empty", "theirs", "mine"};
}

void write_pairs(Group& g, const std::vector<Pair>& pairs, bool notebook) {
  std::vector<std::int64_t> feature, square, state, counts;
  std::vector<double> score;
  std::vector<std::string> labels, notebook_labels;
  for (const Pair& p : pairs) {
    feature.push_back(p.feature);
    square.push_back(p.square);
    state.push_back(p.state);
    score.push_back(p.score);
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) counts.push_back(static_cast<std::int64_t>(p.counts[a][b]));
    }
    labels.push_back(othello::square_label(p.square));
    notebook_labels.push_back(notebook_square_label(p.square));
  }
  const auto k = static_cast<std::uint64_t>(pairs.size());
  analysis::write_dataset(g, "feature", feature, {k}, "feature index");
  analysis::write_dataset(g, "square", square, {k}, "square index 0..63 (row * 8 + col)");
  analysis::write_dataset(g, "state", state, {k},
                          "state index into the product's `states` attribute");
  analysis::write_dataset(g, "score", score, {k},
                          notebook ? "corr(acts == 0, state < 0), the notebook's value"
                                   : "the ranking metric (attribute rank_by)");
  analysis::write_dataset(
      g, "counts", counts, {k, 2, 2},
      notebook ? "[pair, square empty?, feature fired?] row counts (the notebook's 2x2 bars)"
               : "[pair, square in state?, feature fired?] row counts");
  g.attrs().set("square_label", labels);
  if (notebook) g.attrs().set("notebook_square_label", notebook_labels);
}

analysis::Histogram write_histogram(Group& g, const FeatureClassStats& stats,
                                    const Options& options) {
  analysis::Histogram hist(-1.0, 1.0, options.histogram_bins);
  for (std::int64_t f = 0; f < stats.d_sae(); ++f) {
    if (options.notebook_compat) {
      for (int s = 0; s < 64; ++s) hist.add(-stats.firing_corr(f, s * 3 + 1));
    } else {
      for (int j = 0; j < kClasses; ++j) hist.add(stats.firing_corr(f, j));
    }
  }
  analysis::write_dataset(g, "edges", hist.edges(), {hist.edges().size()},
                          "bin edges over [-1, 1]");
  analysis::write_dataset(g, "counts", hist.counts(), {hist.counts().size()},
                          options.notebook_compat
                              ? "pairs (feature, square) per bin of the notebook's correlation"
                              : "pairs (feature, square, state) per bin of firing_corr");
  return hist;
}

}  // namespace

void write_results(Group& root, const FeatureClassStats& stats, const Options& options) {
  const std::int64_t d = stats.d_sae();
  const auto du = static_cast<std::uint64_t>(d);
  std::vector<float> firing(du * kClasses), act(du * kClasses), f1(du * kClasses),
      auroc(du * kClasses), bound(du * kClasses);
  std::vector<std::int64_t> fired_class(du * kClasses), fired(du);
  std::vector<double> sum_act(du), sum_act2(du);
  for (std::int64_t f = 0; f < d; ++f) {
    const auto fi = static_cast<std::size_t>(f);
    fired[fi] = static_cast<std::int64_t>(stats.fired(f));
    sum_act[fi] = stats.sum_act(f);
    sum_act2[fi] = stats.sum_act2(f);
    for (int j = 0; j < kClasses; ++j) {
      const std::size_t i = fi * kClasses + static_cast<std::size_t>(j);
      firing[i] = static_cast<float>(stats.firing_corr(f, j));
      act[i] = static_cast<float>(stats.act_corr(f, j));
      f1[i] = static_cast<float>(stats.f1(f, j));
      double b = 0;
      auroc[i] = static_cast<float>(stats.auroc(f, j, &b));
      bound[i] = static_cast<float>(b);
      fired_class[i] = static_cast<std::int64_t>(stats.fired_class(f, j));
    }
  }
  std::vector<std::int64_t> class_count(kClasses);
  for (int j = 0; j < kClasses; ++j)
    class_count[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(stats.class_count(j));

  auto a = root.attrs();
  a.set("rows", static_cast<std::int64_t>(stats.rows()));
  a.set("d_sae", d);
  a.set("states", state_names(options));
  a.set("notebook_compat", static_cast<std::int64_t>(options.notebook_compat));
  a.set("rank_by", options.rank_by);
  a.set("mine_theirs", othello::to_string(options.convention));
  const std::vector<std::uint64_t> shape{du, 64, 3};
  analysis::write_dataset(root, "firing_corr", firing, shape,
                          "Pearson(fired = act > 0, square in state) [feature, square, state]");
  analysis::write_dataset(root, "act_corr", act, shape, "Pearson(activation, square in state)");
  analysis::write_dataset(root, "f1", f1, shape, "F1 of `fired` predicting `square in state`");
  analysis::write_dataset(root, "auroc", auroc, shape,
                          "AUROC of the activation as a score for `square in state` (binned)");
  analysis::write_dataset(root, "auroc_tie_bound", bound, shape,
                          "largest |error| of auroc caused by the binning");
  analysis::write_dataset(root, "fired_class", fired_class, shape,
                          "rows where the feature fired and the square is in state");
  analysis::write_dataset(root, "class_count", class_count, {64, 3},
                          "rows where the square is in state");
  analysis::write_dataset(root, "fired", fired, {du}, "rows where the feature fired");
  analysis::write_dataset(root, "sum_act", sum_act, {du}, "sum of activations");
  analysis::write_dataset(root, "sum_act2", sum_act2, {du}, "sum of squared activations");
  analysis::write_dataset(
      root, "auroc_bin_edges", options.bins.edges(),
      {static_cast<std::uint64_t>(options.bins.bins) + 1},
      "log-spaced AUROC bins of positive activations (zeros are an exact bin of their own)");

  std::vector<Pair> pairs = top_pairs(stats, options);
  Group top = root.create_group("top_pairs");
  write_pairs(top, pairs, false);
  top.attrs().set("rank_by", options.rank_by);
  Group hist_group = root.create_group("histogram");
  const analysis::Histogram hist = write_histogram(hist_group, stats, options);
  if (options.notebook_compat) {
    Group nb = root.create_group("notebook");
    std::vector<float> corr(du * 64);
    for (std::int64_t f = 0; f < d; ++f) {
      for (int s = 0; s < 64; ++s)
        corr[static_cast<std::size_t>(f) * 64 + static_cast<std::size_t>(s)] =
            static_cast<float>(-stats.firing_corr(f, s * 3 + 1));
    }
    analysis::write_dataset(
        nb, "corr", corr, {du, 64},
        "the notebook's relevant_corr: corrcoef(acts == 0, state < 0), NaN -> 0");
    pairs = notebook_top_pairs(stats, options.top_k);
    Group nb_pairs = nb.create_group("top_pairs");
    write_pairs(nb_pairs, pairs, true);
  }
  write_figures(root, hist, pairs, options);
}

}  // namespace othrun::sae_correlation
