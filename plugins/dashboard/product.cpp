#include "product.hpp"

#include <othrun/analysis/inputs.hpp>

#include <cmath>
#include <limits>

namespace othrun::dashboard {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <class T>
void write_matrix(Group& g, const std::string& name, const std::vector<T>& data,
                  std::uint64_t units, const std::string& doc) {
  analysis::write_dataset(g, name, data, {units, units ? data.size() / units : 0}, doc);
}

}  // namespace

void write_product_datasets(Group& root, const std::vector<UnitView>& views,
                            const SummaryOptions& options, const std::vector<float>* effect,
                            const ProbeCosines* cos) {
  const auto units = static_cast<std::uint64_t>(views.size());
  Group u = root.create_group("units");
  std::vector<double> density, mean;
  std::vector<float> min, max;
  std::vector<std::int64_t> active, rows;
  for (const UnitView& v : views) {
    density.push_back(v.summary.density);
    mean.push_back(v.summary.mean);
    min.push_back(v.summary.min);
    max.push_back(v.summary.max);
    active.push_back(static_cast<std::int64_t>(v.summary.active));
    rows.push_back(static_cast<std::int64_t>(v.summary.kept));
  }
  analysis::write_dataset(u, "density", density, {units}, "rows where the unit is > 0 / rows");
  analysis::write_dataset(u, "mean", mean, {units}, "mean value over the rows");
  analysis::write_dataset(u, "min", min, {units}, "smallest value");
  analysis::write_dataset(u, "max", max, {units}, "largest value");
  analysis::write_dataset(u, "active", active, {units}, "rows where the unit is > 0");
  analysis::write_dataset(u, "rows", rows, {units}, "rows (game, position) that exist");

  const auto bins = static_cast<std::size_t>(options.bins);
  const auto groups = static_cast<std::size_t>(options.groups);
  std::vector<double> edges;
  std::vector<std::int64_t> counts;
  std::vector<float> bounds;
  for (const UnitView& v : views) {
    const auto& s = v.summary;
    for (std::size_t b = 0; b <= bins; ++b) edges.push_back(s.edges.empty() ? NAN : s.edges[b]);
    for (std::size_t b = 0; b < bins; ++b) counts.push_back(s.counts.empty() ? 0 : s.counts[b]);
    for (std::size_t g = 0; g <= groups; ++g)
      bounds.push_back(s.bounds.empty() ? kNaN : s.bounds[g]);
  }
  Group h = root.create_group("histogram");
  write_matrix(h, "edges", edges, units, "bin edges over each unit's non-zero values");
  write_matrix(h, "counts", counts, units, "non-zero values per bin");
  Group gr = root.create_group("groups");
  write_matrix(gr, "bounds", bounds, units,
               "first value of each equal-count group of the active values, then the max");

  const auto per_unit = static_cast<std::size_t>(options.top_examples) +
                        groups * static_cast<std::size_t>(options.group_examples);
  std::vector<std::int64_t> game, position, group;
  std::vector<float> value;
  for (const UnitView& v : views) {
    for (std::size_t k = 0; k < per_unit; ++k) {
      const bool have = k < v.examples.size();
      game.push_back(have ? static_cast<std::int64_t>(v.examples[k].game) : -1);
      position.push_back(have ? v.examples[k].position : -1);
      value.push_back(have ? v.examples[k].example.value : kNaN);
      group.push_back(have ? v.examples[k].example.group : -2);
    }
  }
  Group ex = root.create_group("examples");
  write_matrix(ex, "game", game, units, "game of each example, -1 where a unit has fewer");
  write_matrix(ex, "position", position, units, "model position t of each example");
  write_matrix(ex, "value", value, units, "the unit's value there");
  write_matrix(ex, "group", group, units, "-1 top example, g: drawn from quantile group g");

  const auto ranks = static_cast<std::size_t>(options.top_states);
  std::vector<std::int64_t> square, state;
  std::vector<float> firing, act, f1, auroc;
  for (const UnitView& v : views) {
    for (std::size_t k = 0; k < ranks; ++k) {
      const StateScore& t = v.summary.top_states[k];
      square.push_back(t.column / 3);
      state.push_back(t.column % 3);
      firing.push_back(t.firing_corr);
      act.push_back(t.act_corr);
      f1.push_back(t.f1);
      auroc.push_back(t.auroc);
    }
  }
  Group st = root.create_group("states");
  write_matrix(st, "square", square, units, "square of the k-th best state by firing_corr");
  write_matrix(st, "state", state, units, "0 empty, 1 theirs, 2 mine");
  write_matrix(st, "firing_corr", firing, units, "Pearson(value > 0, square in state)");
  write_matrix(st, "act_corr", act, units, "Pearson(value, square in state)");
  write_matrix(st, "f1", f1, units, "F1 of value > 0 predicting square in state");
  write_matrix(st, "auroc", auroc, units, "AUROC of the value as a score for square in state");

  if (effect)
    write_matrix(root, "direct_effect", *effect, units,
                 "(d - mean d) * ln_final.w @ W_U, centred over the 60 move tokens, per square "
                 "(NaN: the centre squares)");
  if (cos) {
    Group c = root.create_group("cosine");
    write_matrix(c, "blank", cos->blank, units, "cosine of the unit direction with blank_dir");
    write_matrix(c, "mine", cos->mine, units, "cosine of the unit direction with mine_dir");
  }
}

}  // namespace othrun::dashboard
