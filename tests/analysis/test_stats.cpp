// The streaming accumulators on hand-computed cases and against whole-array computations.
#include <othrun/analysis/class_stats.hpp>
#include <othrun/analysis/stats.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace othrun::analysis;

TEST(Quantile, LinearInterpolationAsTorch) {
  // torch.quantile(torch.tensor([1., 2., 3., 4.]), 0.5) == 2.5; q = 0.99 over 0..99 -> 98.01
  EXPECT_FLOAT_EQ(quantile_linear({4, 1, 3, 2}, 0.5), 2.5f);
  std::vector<float> v(100);
  for (int i = 0; i < 100; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  EXPECT_NEAR(quantile_linear(v, 0.99), 98.01f, 1e-4);
  EXPECT_FLOAT_EQ(quantile_linear({5}, 0.99), 5.0f);
}

TEST(Auroc, ExactWithTies) {
  // positives {3, 2}, negatives {1, 2}: pairs (3>1) (3>2) (2>1) (2=2 -> half) = 3.5 / 4
  std::vector<float> s{3, 2, 1, 2};
  std::vector<std::uint8_t> y{1, 1, 0, 0};
  EXPECT_DOUBLE_EQ(exact_auroc(s, y), 0.875);
  EXPECT_TRUE(std::isnan(exact_auroc(s, std::vector<std::uint8_t>{1, 1, 1, 1})));
  // binned: same data in bins [1], [2], [3]
  std::vector<double> pos{0, 1, 1}, neg{1, 1, 0};
  double bound = 0;
  EXPECT_DOUBLE_EQ(binned_auroc(pos, neg, &bound), 0.875);
  EXPECT_DOUBLE_EQ(bound, 0.125);
}

TEST(Summary, PopulationStd) {
  const std::vector<float> v{1, 2, 3, 4};
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 4);
}

TEST(Histogram, EdgesAndClamping) {
  Histogram h(0, 10, 5);
  for (double v : {-1.0, 0.0, 1.9, 2.0, 10.0, 11.0}) h.add(v);
  EXPECT_EQ(h.counts(), (std::vector<double>{3, 1, 0, 0, 2}));
  EXPECT_EQ(h.edges().size(), 6u);
  Histogram g(0, 10, 5);
  g.add(5);
  h.merge(g);
  EXPECT_EQ(h.counts()[2], 1);
}

TEST(TopK, KeepsLargestInOrder) {
  TopK<int> top(3);
  for (int i = 0; i < 10; ++i) top.push((i * 7) % 10, i);
  const auto best = top.sorted();
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0].first, 9);
  EXPECT_EQ(best[1].first, 8);
  EXPECT_EQ(best[2].first, 7);
}

namespace {

struct Data {
  std::int64_t rows, d_sae;
  std::vector<float> dense;
  std::vector<std::uint8_t> codes, keep;
};

Data make_data(std::int64_t rows, std::int64_t d_sae, unsigned seed) {
  Data d{rows, d_sae, {}, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  d.dense.resize(static_cast<std::size_t>(rows * d_sae));
  for (auto& v : d.dense) v = u(rng) < 0.3f ? std::exp(6 * u(rng) - 3) : 0.0f;
  d.codes.resize(static_cast<std::size_t>(rows * 64));
  for (auto& c : d.codes) c = static_cast<std::uint8_t>(rng() % 3);
  d.keep.assign(static_cast<std::size_t>(rows), 1);
  d.keep[3] = 0;
  return d;
}

FeatureClassStats stats_in_chunks(const Data& d, std::int64_t chunk, int threads) {
  FeatureClassStats stats(d.d_sae, LogBins{1e-3, 1e3, 48});
  for (std::int64_t r0 = 0; r0 < d.rows; r0 += chunk) {
    const std::int64_t n = std::min(chunk, d.rows - r0);
    SparseRows rows;
    rows.cols = d.d_sae;
    rows.append_dense(d.dense.data() + r0 * d.d_sae, n);
    stats.consume(
        rows,
        std::span(d.codes).subspan(static_cast<std::size_t>(r0 * 64),
                                   static_cast<std::size_t>(n * 64)),
        std::span(d.keep).subspan(static_cast<std::size_t>(r0), static_cast<std::size_t>(n)),
        threads);
  }
  return stats;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

}  // namespace

TEST(FeatureClassStats, MatchesWholeArrayComputation) {
  const Data d = make_data(500, 6, 7);
  const FeatureClassStats stats = stats_in_chunks(d, 500, 1);
  EXPECT_EQ(stats.rows(), 499u);
  for (std::int64_t f = 0; f < d.d_sae; ++f) {
    for (int j : {0, 1, 2, 77, 191}) {
      std::vector<double> act, fired, in;
      std::vector<float> score;
      std::vector<std::uint8_t> label;
      double tp = 0, fp = 0, fn = 0;
      for (std::int64_t r = 0; r < d.rows; ++r) {
        if (!d.keep[static_cast<std::size_t>(r)]) continue;
        const float v = d.dense[static_cast<std::size_t>(r * d.d_sae + f)];
        const bool y = d.codes[static_cast<std::size_t>(r * 64 + j / 3)] == j % 3;
        act.push_back(v);
        fired.push_back(v > 0);
        in.push_back(y);
        score.push_back(v);
        label.push_back(y);
        tp += (v > 0) && y;
        fp += (v > 0) && !y;
        fn += !(v > 0) && y;
      }
      EXPECT_NEAR(stats.firing_corr(f, j), pearson(fired, in), 1e-12);
      EXPECT_NEAR(stats.act_corr(f, j), pearson(act, in), 1e-12);
      EXPECT_NEAR(stats.f1(f, j), 2 * tp / (2 * tp + fp + fn), 1e-12);
      double bound = 0;
      const double auc = stats.auroc(f, j, &bound);
      EXPECT_LE(std::abs(auc - exact_auroc(score, label)), bound + 1e-12);
      EXPECT_LT(bound, 0.02);
    }
  }
}

TEST(FeatureClassStats, ChunkSizesThreadsAndMergeAgree) {
  const Data d = make_data(300, 9, 11);
  const FeatureClassStats whole = stats_in_chunks(d, 300, 1);
  const FeatureClassStats chunked = stats_in_chunks(d, 37, 3);
  Data first = d, second = d;
  first.rows = 150;
  second.rows = 150;
  second.dense.erase(second.dense.begin(), second.dense.begin() + 150 * 9);
  second.codes.erase(second.codes.begin(), second.codes.begin() + 150 * 64);
  second.keep.erase(second.keep.begin(), second.keep.begin() + 150);
  FeatureClassStats merged = stats_in_chunks(first, 150, 1);
  merged.merge(stats_in_chunks(second, 150, 2));
  for (const FeatureClassStats* other :
       {&chunked, static_cast<const FeatureClassStats*>(&merged)}) {
    ASSERT_EQ(other->rows(), whole.rows());
    for (std::int64_t f = 0; f < d.d_sae; ++f) {
      for (int j = 0; j < kClasses; ++j) {
        EXPECT_EQ(other->fired_class(f, j), whole.fired_class(f, j));
        EXPECT_NEAR(other->act_corr(f, j), whole.act_corr(f, j), 1e-12);
        EXPECT_DOUBLE_EQ(other->auroc(f, j), whole.auroc(f, j));
      }
    }
  }
}

TEST(FeatureClassStats, ConstantColumnsGiveZero) {
  FeatureClassStats stats(2, LogBins{});
  SparseRows rows;
  rows.cols = 2;
  const std::vector<float> dense{1, 0, 2, 0};
  rows.append_dense(dense.data(), 2);
  const std::vector<std::uint8_t> codes(128, 0), keep(2, 1);
  stats.consume(rows, codes, keep);
  EXPECT_EQ(stats.firing_corr(0, 0), 0.0);  // feature 0 always fires
  EXPECT_EQ(stats.firing_corr(1, 0), 0.0);  // feature 1 never fires
  EXPECT_EQ(stats.act_corr(0, 1), 0.0);     // class 1 never occurs
  EXPECT_TRUE(std::isnan(stats.auroc(0, 0)));
}

TEST(FeatureClassStats, BinsValuesAtTheEdgesAsLogBinsDoes) {
  // consume() finds bins without a logarithm; values at and a few ulps around every edge (where a
  // shortcut would most likely differ) must land where LogBins::bin puts them.
  const LogBins bins{1e-3, 1e3, 48};
  std::vector<float> values;
  for (double edge : bins.edges()) {
    float v = static_cast<float>(edge);
    for (int k = 0; k < 12; ++k) v = std::nextafter(v, 0.0f);
    for (int k = 0; k < 25; ++k, v = std::nextafter(v, 1e30f)) values.push_back(v);
  }
  values.push_back(1e-30f);
  values.push_back(1e30f);
  FeatureClassStats stats(1, bins);
  SparseRows rows;
  rows.cols = 1;
  rows.append_dense(values.data(), static_cast<std::int64_t>(values.size()));
  const std::vector<std::uint8_t> codes(values.size() * 64, 2), keep(values.size(), 1);
  stats.consume(rows, codes, keep);
  std::vector<double> expected(static_cast<std::size_t>(bins.bins), 0.0);
  for (float v : values) expected[static_cast<std::size_t>(bins.bin(v))] += 1;
  EXPECT_EQ(stats.feature_histogram(0), expected);
  EXPECT_EQ(stats.class_histogram(0, 5 * 3 + 2), expected);
  EXPECT_EQ(stats.class_histogram(0, 5 * 3 + 0), std::vector<double>(expected.size(), 0.0));
}

TEST(FeatureClassStats, SummarizeKeepsTheCountsAndConsumeUpdatesThem) {
  const Data d = make_data(200, 5, 3);
  FeatureClassStats stats = stats_in_chunks(d, 200, 1);
  const FeatureClassStats plain = stats;
  stats.summarize();
  for (std::int64_t f = 0; f < d.d_sae; ++f) {
    for (int j = 0; j < kClasses; ++j) EXPECT_EQ(stats.fired_class(f, j), plain.fired_class(f, j));
  }
  // Consuming after summarize() counts the new rows too (the table is not left stale).
  SparseRows rows;
  rows.cols = d.d_sae;
  rows.append_dense(d.dense.data(), 1);
  stats.consume(rows, std::span(d.codes).subspan(0, 64), std::span(d.keep).subspan(0, 1));
  const int j = d.codes[0];  // square 0's class in row 0
  for (std::int64_t f = 0; f < d.d_sae; ++f) {
    const bool fired = d.dense[static_cast<std::size_t>(f)] > 0;
    EXPECT_EQ(stats.fired_class(f, j), plain.fired_class(f, j) + (fired ? 1 : 0));
  }
}
