#include "results.hpp"

#include "figures.hpp"

#include <othrun/analysis/inputs.hpp>

#include <cmath>

namespace othrun::patching {

namespace {

using analysis::write_dataset;

template <class T, class F>
std::vector<T> per_pair(const std::vector<GamePair>& pairs, F field) {
  std::vector<T> out;
  for (const GamePair& p : pairs) out.push_back(static_cast<T>(field(p)));
  return out;
}

std::vector<std::int8_t> tokens(const std::vector<GamePair>& pairs, std::int64_t n_pos,
                                bool clean) {
  std::vector<std::int8_t> out;
  for (const GamePair& p : pairs) {
    const auto& t = clean ? p.clean_tokens : p.corrupted_tokens;
    for (std::int64_t i = 0; i < n_pos; ++i) out.push_back(static_cast<std::int8_t>(t[i]));
  }
  return out;
}

void write_pairs(Group& root, const std::vector<GamePair>& pairs, std::int64_t n_pos) {
  Group g = root.create_group("pairs");
  const std::uint64_t n = pairs.size();
  write_dataset(g, "clean_game",
                per_pair<std::int64_t>(pairs, [](auto& p) { return p.clean_game; }), {n},
                "index of the clean game in the games product");
  write_dataset(g, "corrupted_game",
                per_pair<std::int64_t>(pairs, [](auto& p) { return p.corrupted_game; }), {n},
                "chosen pairs: index of the corrupted game; -1 for a twin of the clean game");
  write_dataset(g, "changed_ply",
                per_pair<std::int8_t>(pairs, [](auto& p) { return p.changed_ply; }), {n},
                "twins: the ply whose move was changed; -1 for chosen pairs");
  write_dataset(g, "clean_square",
                per_pair<std::int8_t>(pairs, [](auto& p) { return p.clean_square; }), {n},
                "twins: the clean game's move (square 0..63) at changed_ply; -1 otherwise");
  write_dataset(g, "corrupted_square",
                per_pair<std::int8_t>(pairs, [](auto& p) { return p.corrupted_square; }), {n},
                "twins: the twin's move at changed_ply; -1 otherwise");
  write_dataset(g, "metric_position",
                per_pair<std::int8_t>(pairs, [](auto& p) { return p.metric_position; }), {n},
                "the position whose output the metric reads (it predicts the next move)");
  std::vector<std::int8_t> answers;
  for (const GamePair& p : pairs) {
    answers.push_back(static_cast<std::int8_t>(p.plus_square));
    answers.push_back(static_cast<std::int8_t>(p.minus_square));
  }
  write_dataset(g, "answer_squares", answers, {n, 2},
                "logit_diff: the squares whose logits are subtracted (plus, minus); -1 otherwise");
  write_dataset(g, "clean_valid",
                per_pair<std::uint64_t>(pairs, [](auto& p) { return p.clean_valid; }), {n},
                "bitboard of the clean game's valid moves after metric_position");
  write_dataset(g, "corrupted_valid",
                per_pair<std::uint64_t>(pairs, [](auto& p) { return p.corrupted_valid; }), {n},
                "bitboard of the corrupted game's valid moves after metric_position");
  const auto n_cols = static_cast<std::uint64_t>(n_pos);
  write_dataset(g, "clean_tokens", tokens(pairs, n_pos, true), {n, n_cols},
                "model input of the clean run; 0 (padding) after metric_position");
  write_dataset(g, "corrupted_tokens", tokens(pairs, n_pos, false), {n, n_cols},
                "model input of the corrupted and the patched runs; 0 after metric_position");
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

const char* to_string(MetricKind metric) {
  return metric == MetricKind::LogitDiff ? "logit_diff" : "legal_logprob";
}

std::vector<double> normalised_scores(const std::vector<double>& patched,
                                      const std::vector<double>& clean,
                                      const std::vector<double>& corrupted) {
  const std::size_t n = clean.size();
  const std::size_t cells = patched.size() / n;  // layers * sites
  std::vector<double> sums(cells, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < cells; ++c) sums[c] += patched[i * cells + c];
  }
  const double mc = mean(clean), mk = mean(corrupted);
  std::vector<double> out(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    out[c] = normalised_score(sums[c] / static_cast<double>(n), mc, mk);
  }
  return out;
}

DatasetDecls result_datasets(const std::vector<std::string>& kinds) {
  DatasetDecls out;
  auto add = [&](std::string name, DType dtype, std::string axes, std::string doc) {
    out.push_back({std::move(name), dtype, std::move(axes), std::move(doc), "", std::nullopt});
  };
  add("pairs/clean_game", DType::Int64, "pair", "clean game index");
  add("pairs/corrupted_game", DType::Int64, "pair", "corrupted game index, -1 for twins");
  add("pairs/changed_ply", DType::Int8, "pair", "the twin's changed ply");
  add("pairs/clean_square", DType::Int8, "pair", "clean move at changed_ply");
  add("pairs/corrupted_square", DType::Int8, "pair", "twin's move at changed_ply");
  add("pairs/metric_position", DType::Int8, "pair", "position the metric reads");
  add("pairs/answer_squares", DType::Int8, "pair,side", "logit_diff squares (plus, minus)");
  add("pairs/clean_valid", DType::UInt64, "pair", "clean valid moves (bitboard)");
  add("pairs/corrupted_valid", DType::UInt64, "pair", "corrupted valid moves (bitboard)");
  add("pairs/clean_tokens", DType::Int8, "pair,pos", "clean model input");
  add("pairs/corrupted_tokens", DType::Int8, "pair,pos", "corrupted model input");
  add("baseline/clean", DType::Float64, "pair", "metric of the clean run");
  add("baseline/corrupted", DType::Float64, "pair", "metric of the corrupted run");
  add("layers", DType::Int64, "layer", "the layers patched");
  for (const std::string& kind : kinds) {
    const std::string site = is_head_kind(kind) ? "head" : "pos";
    add(kind + "/patched", DType::Float64, "pair,layer," + site, "metric after patching");
    add(kind + "/score", DType::Float64, "layer," + site, "normalised score, 0 corrupted 1 clean");
  }
  return out;
}

void write_results(Group& root, const std::vector<GamePair>& pairs, const SweepResult& sweep,
                   const ResultInfo& info) {
  write_pairs(root, pairs, sweep.n_positions);
  const std::uint64_t n = pairs.size();
  Group base = root.create_group("baseline");
  write_dataset(base, "clean", sweep.clean, {n}, "the metric on the clean run, per pair");
  write_dataset(base, "corrupted", sweep.corrupted, {n}, "the metric on the corrupted run");
  write_dataset(root, "layers", info.layers, {info.layers.size()},
                "the layers patched: axis 1 of every <kind>/patched and axis 0 of <kind>/score");
  const auto n_layers = static_cast<std::uint64_t>(info.layers.size());
  for (const std::string& kind : info.kinds) {
    const std::vector<double>& patched = sweep.patched.at(kind);
    const bool heads = is_head_kind(kind);
    const auto sites = static_cast<std::uint64_t>(heads ? info.n_heads : sweep.n_positions);
    Group g = root.create_group(kind);
    write_dataset(g, "patched", patched, {n, n_layers, sites},
                  std::string("the metric of the corrupted run with the clean activation patched "
                              "in, [pair, layer, ") +
                      (heads ? "head] (one head's z at every position)" : "position]"));
    const auto scores = normalised_scores(patched, sweep.clean, sweep.corrupted);
    write_dataset(g, "score", scores, {n_layers, sites},
                  "(mean over pairs of patched - mean corrupted) / (mean clean - mean corrupted): "
                  "0 = the corrupted run, 1 = the clean run; NaN when the two means are equal");
    g.attrs().set("hook", patch_hook(kind, info.layers.front()));
    write_heatmap(root, kind, info, scores, sweep, n);
  }
  auto a = root.attrs();
  a.set("metric", to_string(info.metric));
  a.set("pairs", static_cast<std::int64_t>(n));
  a.set("n_positions", sweep.n_positions);
  a.set("mean_clean", mean(sweep.clean));
  a.set("mean_corrupted", mean(sweep.corrupted));
  a.set("patched_runs", static_cast<std::int64_t>(sweep.patched_runs));
  a.set("seconds_forward", sweep.seconds_forward);
}

}  // namespace othrun::patching
