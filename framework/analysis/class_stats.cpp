#include <othrun/analysis/class_stats.hpp>

#include <othrun/analysis/stats.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace othrun::analysis {

int LogBins::bin(float value) const {
  const double x =
      (std::log(static_cast<double>(value)) - std::log(lo)) / (std::log(hi) - std::log(lo)) * bins;
  if (!(x >= 0)) return 0;
  return std::min(static_cast<int>(x), bins - 1);
}

std::vector<double> LogBins::edges() const {
  std::vector<double> e(static_cast<std::size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i)
    e[static_cast<std::size_t>(i)] = lo * std::pow(hi / lo, static_cast<double>(i) / bins);
  return e;
}

FeatureClassStats::FeatureClassStats(std::int64_t d_sae, LogBins bins)
    : d_sae_(d_sae),
      bins_(bins),
      class_count_(kClasses, 0),
      fired_(static_cast<std::size_t>(d_sae), 0),
      sum_act_(static_cast<std::size_t>(d_sae), 0.0),
      sum_act2_(static_cast<std::size_t>(d_sae), 0.0),
      act_class_(static_cast<std::size_t>(d_sae) * kClasses, 0.0),
      hist_(static_cast<std::size_t>(d_sae) * static_cast<std::size_t>(bins.bins) * kClasses, 0),
      hist_total_(static_cast<std::size_t>(d_sae) * static_cast<std::size_t>(bins.bins), 0) {
  if (bins.bins < 1 || !(bins.lo > 0) || !(bins.hi > bins.lo)) {
    throw std::invalid_argument("LogBins needs bins >= 1 and 0 < lo < hi");
  }
}

void FeatureClassStats::consume(const SparseRows& features, std::span<const std::uint8_t> codes,
                                std::span<const std::uint8_t> keep, int threads) {
  const std::int64_t rows = features.rows();
  if (codes.size() != static_cast<std::size_t>(rows) * kSquares ||
      keep.size() != static_cast<std::size_t>(rows)) {
    throw std::invalid_argument("FeatureClassStats::consume: labels do not match the rows");
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!keep[static_cast<std::size_t>(r)]) continue;
    ++rows_;
    for (int s = 0; s < kSquares; ++s)
      ++class_count_[static_cast<std::size_t>(s * kStates +
                                              codes[static_cast<std::size_t>(r * kSquares + s)])];
  }
  // Each thread owns a range of features: no shared writes, so no locks and no per-thread copies.
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(d_sae_)));
  if (n == 1) {
    consume_features(features, codes, keep, 0, d_sae_);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < n; ++t) {
    const std::int64_t lo = d_sae_ * t / n, hi = d_sae_ * (t + 1) / n;
    pool.emplace_back([&, lo, hi] { consume_features(features, codes, keep, lo, hi); });
  }
  for (auto& th : pool) th.join();
}

void FeatureClassStats::consume_features(const SparseRows& features,
                                         std::span<const std::uint8_t> codes,
                                         std::span<const std::uint8_t> keep, std::int64_t f_lo,
                                         std::int64_t f_hi) {
  std::array<std::int32_t, kSquares> cols{};
  for (std::int64_t r = 0; r < features.rows(); ++r) {
    if (!keep[static_cast<std::size_t>(r)]) continue;
    const auto begin = features.row_ptr[static_cast<std::size_t>(r)];
    const auto end = features.row_ptr[static_cast<std::size_t>(r) + 1];
    if (begin == end) continue;
    for (int s = 0; s < kSquares; ++s)
      cols[static_cast<std::size_t>(s)] =
          s * kStates + codes[static_cast<std::size_t>(r * kSquares + s)];
    for (auto i = begin; i < end; ++i) {
      const std::int64_t f = features.index[static_cast<std::size_t>(i)];
      const float v = features.value[static_cast<std::size_t>(i)];
      if (f < f_lo || f >= f_hi || !(v > 0.0f)) continue;
      const auto fi = static_cast<std::size_t>(f);
      ++fired_[fi];
      sum_act_[fi] += v;
      sum_act2_[fi] += double{v} * v;
      const int b = bins_.bin(v);
      ++hist_total_[fi * static_cast<std::size_t>(bins_.bins) + static_cast<std::size_t>(b)];
      double* act = act_class_.data() + fi * kClasses;
      std::uint32_t* hist = hist_row(f, b);
      for (int s = 0; s < kSquares; ++s) {
        const auto j = static_cast<std::size_t>(cols[static_cast<std::size_t>(s)]);
        act[j] += v;
        ++hist[j];
      }
    }
  }
}

void FeatureClassStats::merge(const FeatureClassStats& other) {
  if (other.d_sae_ != d_sae_ || other.bins_.bins != bins_.bins || other.bins_.lo != bins_.lo ||
      other.bins_.hi != bins_.hi) {
    throw std::invalid_argument("FeatureClassStats::merge: different shapes or bins");
  }
  rows_ += other.rows_;
  auto add = [](auto& a, const auto& b) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  };
  add(class_count_, other.class_count_);
  add(fired_, other.fired_);
  add(sum_act_, other.sum_act_);
  add(sum_act2_, other.sum_act2_);
  add(act_class_, other.act_class_);
  add(hist_, other.hist_);
  add(hist_total_, other.hist_total_);
}

std::uint64_t FeatureClassStats::fired_class(std::int64_t f, int j) const {
  std::uint64_t total = 0;
  for (int b = 0; b < bins_.bins; ++b) total += hist_row(f, b)[j];
  return total;
}

std::vector<double> FeatureClassStats::class_histogram(std::int64_t f, int j) const {
  std::vector<double> out(static_cast<std::size_t>(bins_.bins));
  for (int b = 0; b < bins_.bins; ++b) out[static_cast<std::size_t>(b)] = hist_row(f, b)[j];
  return out;
}

std::vector<double> FeatureClassStats::feature_histogram(std::int64_t f) const {
  const auto* total =
      hist_total_.data() + static_cast<std::size_t>(f) * static_cast<std::size_t>(bins_.bins);
  return std::vector<double>(total, total + bins_.bins);
}

double phi_coefficient(double n11, double a, double b, double n) {
  const double denominator = a * (n - a) * b * (n - b);
  if (!(denominator > 0)) return 0.0;
  return (n * n11 - a * b) / std::sqrt(denominator);
}

double FeatureClassStats::firing_corr(std::int64_t f, int j) const {
  return phi_coefficient(static_cast<double>(fired_class(f, j)), static_cast<double>(fired(f)),
                         static_cast<double>(class_count(j)), static_cast<double>(rows_));
}

double FeatureClassStats::act_corr(std::int64_t f, int j) const {
  const double n = static_cast<double>(rows_);
  const double c = static_cast<double>(class_count(j));
  const double sx = sum_act(f), sxx = sum_act2(f), sxy = act_class(f, j);
  const double var_x = n * sxx - sx * sx;  // double sums: cancellation stays far below 1e-6
  const double var_y = c * (n - c);
  if (!(var_x > 0) || !(var_y > 0)) return 0.0;
  return (n * sxy - sx * c) / std::sqrt(var_x * var_y);
}

double FeatureClassStats::f1(std::int64_t f, int j) const {
  const double tp = static_cast<double>(fired_class(f, j));
  const double fp = static_cast<double>(fired(f)) - tp;
  const double fn = static_cast<double>(class_count(j)) - tp;
  const double denominator = 2 * tp + fp + fn;
  return denominator > 0 ? 2 * tp / denominator : 0.0;
}

double FeatureClassStats::auroc(std::int64_t f, int j, double* tie_bound) const {
  // Bin 0 holds the exact zeros (not fired); bins 1.. the positive values.
  const auto bins = static_cast<std::size_t>(bins_.bins);
  std::vector<double> pos(bins + 1), neg(bins + 1);
  const auto total = feature_histogram(f);
  double pos_fired = 0, neg_fired = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    pos[b + 1] = hist_row(f, static_cast<int>(b))[j];
    neg[b + 1] = total[b] - pos[b + 1];
    pos_fired += pos[b + 1];
    neg_fired += neg[b + 1];
  }
  const double c = static_cast<double>(class_count(j));
  pos[0] = c - pos_fired;
  neg[0] = (static_cast<double>(rows_) - c) - neg_fired;
  // Ties in bin 0 are real ties (all exactly 0), so only the positive bins add to the bound.
  double bound = 0;
  const double auc = binned_auroc(pos, neg, &bound);
  if (tie_bound) {
    const double zero_ties = 0.5 * pos[0] * neg[0] / (c * (static_cast<double>(rows_) - c));
    *tie_bound = std::isnan(bound) ? bound : bound - zero_ties;
  }
  return auc;
}

}  // namespace othrun::analysis
