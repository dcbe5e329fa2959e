#include "correlation.hpp"

#include <othrun/analysis/stats.hpp>
#include <othrun/progress.hpp>

#include <chrono>
#include <cmath>

namespace othrun::sae_correlation {

using analysis::FeatureClassStats;
using analysis::kClasses;
using analysis::kStates;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

games::Frame frame_of(const Options& options) {
  // The notebook correlates raw board states (+1 black, -1 white).
  return options.notebook_compat ? games::Frame::BlackWhite : games::Frame::MineTheirs;
}

Pair make_pair_counts(const FeatureClassStats& stats, std::int64_t f, int square, int state,
                      double score) {
  Pair p;
  p.feature = f;
  p.square = square;
  p.state = state;
  p.score = score;
  const int j = square * kStates + state;
  const std::uint64_t fired_in = stats.fired_class(f, j);
  const std::uint64_t in = stats.class_count(j);
  const std::uint64_t fired = stats.fired(f);
  p.counts[1][1] = fired_in;
  p.counts[1][0] = in - fired_in;
  p.counts[0][1] = fired - fired_in;
  p.counts[0][0] = stats.rows() - in - (fired - fired_in);
  return p;
}

double metric(const FeatureClassStats& stats, const std::string& name, std::int64_t f, int j) {
  if (name == "act_corr") return stats.act_corr(f, j);
  if (name == "f1") return stats.f1(f, j);
  if (name == "auroc") {
    const double a = stats.auroc(f, j);
    return std::isnan(a) ? 0.0 : a;
  }
  return stats.firing_corr(f, j);
}

}  // namespace

FeatureClassStats accumulate(const FeatureSource& source, const games::GamesReader& games,
                             std::uint64_t n_games, const analysis::PositionSpan& positions,
                             std::int64_t d_sae, const Options& options, Timing* timing) {
  SingleRank one;
  return accumulate(source, games, n_games, positions, d_sae, options, one, timing);
}

FeatureClassStats accumulate(const FeatureSource& source, const games::GamesReader& games,
                             std::uint64_t n_games, const analysis::PositionSpan& positions,
                             std::int64_t d_sae, const Options& options, Ranks& ranks,
                             Timing* timing) {
  const RowShare share = ranks.share(n_games, options.chunk_games);
  // Counts add up exactly in one accumulator; the floating sums go chunk by chunk into a tree.
  FeatureClassStats stats(d_sae, options.bins);
  BlockTree<analysis::FloatSums> tree;
  Progress progress("sae_correlation", share.count(), "games");
  Timing local;
  for (std::uint64_t first = share.begin; first < share.end; first += options.chunk_games) {
    const std::uint64_t count = std::min(options.chunk_games, share.end - first);
    auto t0 = std::chrono::steady_clock::now();
    const analysis::SparseRows rows = source(first, count);
    local.read_features_s += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const auto labels = analysis::row_labels(games.read(first, count), positions, frame_of(options),
                                             options.convention);
    local.read_games_s += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    stats.consume(rows, labels.codes, labels.keep, options.threads);
    tree.add(first / options.chunk_games, stats.take_float_sums());
    local.accumulate_s += seconds_since(t0);
    progress.advance(count);
  }
  const std::uint64_t chunks = (n_games + options.chunk_games - 1) / options.chunk_games;
  std::optional<analysis::FloatSums> sums = tree.reduce(ranks, chunks);
  if (ranks.size() > 1) {  // the counts of every rank, added in rank order (exact)
    ByteWriter mine;
    stats.save(mine);
    const auto parts = ranks.gather(mine.bytes());
    if (!ranks.is_root()) return stats;
    stats = FeatureClassStats(d_sae, options.bins);
    for (const auto& part : parts) {
      ByteReader in(part);
      stats.merge(FeatureClassStats::load(in));
    }
  }
  if (sums) stats.set_float_sums(std::move(*sums));
  stats.summarize();  // the results ask for fired_class ~4 times per (feature, class)
  if (timing) *timing = local;
  return stats;
}

std::string notebook_square_label(int square) {
  // board_labels = [to_board_label(i) for i in stoi_indices]: 60 entries, indexed by square id.
  if (square >= 60) return "<IndexError: " + std::to_string(square) + ">";
  const int token_square = square < 27 ? square : (square < 33 ? square + 2 : square + 4);
  return othello::square_label(token_square);
}

std::vector<Pair> notebook_top_pairs(const FeatureClassStats& stats, int k) {
  // corr(acts == 0, state < 0) = -corr(fired, white); torch.topk over the flattened [d_sae, 64]
  // block, NaN (constant columns) already 0. Flattened index f * 64 + square breaks ties.
  analysis::TopK<std::int64_t> top(static_cast<std::size_t>(k));
  for (std::int64_t f = 0; f < stats.d_sae(); ++f) {
    for (int s = 0; s < 64; ++s) top.push(-stats.firing_corr(f, s * kStates + 1), f * 64 + s);
  }
  std::vector<Pair> out;
  for (const auto& [score, index] : top.sorted()) {
    // The 2x2 counts use state == 0 (empty), not the correlated state < 0.
    out.push_back(make_pair_counts(stats, index / 64, static_cast<int>(index % 64), 0, score));
  }
  return out;
}

std::vector<Pair> top_pairs(const FeatureClassStats& stats, const Options& options) {
  analysis::TopK<std::int64_t> top(static_cast<std::size_t>(options.top_k));
  for (std::int64_t f = 0; f < stats.d_sae(); ++f) {
    for (int j = 0; j < kClasses; ++j)
      top.push(metric(stats, options.rank_by, f, j), f * kClasses + j);
  }
  std::vector<Pair> out;
  for (const auto& [score, index] : top.sorted()) {
    const int j = static_cast<int>(index % kClasses);
    out.push_back(make_pair_counts(stats, index / kClasses, j / kStates, j % kStates, score));
  }
  return out;
}

}  // namespace othrun::sae_correlation
