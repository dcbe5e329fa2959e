#include <othrun/analysis/stats.hpp>

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace othrun::analysis {

namespace {
// torch.lerp's formula (ATen Lerp.h), in float32.
float torch_lerp(float start, float end, float weight) {
  return std::abs(weight) < 0.5f ? start + weight * (end - start)
                                 : end - (end - start) * (1.0f - weight);
}
}  // namespace

float quantile_linear(std::vector<float> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of no values");
  std::sort(values.begin(), values.end());
  const float rank = static_cast<float>(q) * static_cast<float>(values.size() - 1);
  const float below = std::floor(rank);
  const auto lo = static_cast<std::size_t>(below);
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return torch_lerp(values[lo], values[hi], rank - below);
}

double exact_auroc(std::span<const float> scores, std::span<const std::uint8_t> labels) {
  if (scores.size() != labels.size()) throw std::invalid_argument("auroc: size mismatch");
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Sum of positive ranks with ties given their average rank (Mann-Whitney U).
  double rank_sum = 0, positives = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);
    for (std::size_t t = i; t < j; ++t) {
      if (labels[order[t]]) {
        rank_sum += mean_rank;
        positives += 1;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

double binned_auroc(std::span<const double> positives, std::span<const double> negatives,
                    double* tie_bound) {
  double p_total = 0, n_total = 0;
  for (double v : positives) p_total += v;
  for (double v : negatives) n_total += v;
  if (p_total == 0 || n_total == 0) {
    if (tie_bound) *tie_bound = std::numeric_limits<double>::quiet_NaN();
    return std::numeric_limits<double>::quiet_NaN();
  }
  double below = 0, wins = 0, ties = 0;
  for (std::size_t b = 0; b < positives.size(); ++b) {
    wins += positives[b] * below;
    ties += positives[b] * negatives[b];
    below += negatives[b];
  }
  if (tie_bound) *tie_bound = 0.5 * ties / (p_total * n_total);
  return (wins + 0.5 * ties) / (p_total * n_total);
}

Summary summarize(std::span<const float> values) {
  Summary s;
  s.count = values.size();
  if (values.empty()) return s;
  double sum = 0;
  s.min = s.max = values[0];
  for (float v : values) {
    sum += v;
    s.min = std::min<double>(s.min, v);
    s.max = std::max<double>(s.max, v);
  }
  s.mean = sum / static_cast<double>(values.size());
  double sq = 0;  // second pass: no cancellation
  for (float v : values) sq += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(values.size()));
  return s;
}

Histogram::Histogram(double lo, double hi, int bins)
    : lo_(lo), hi_(hi > lo ? hi : lo + 1), counts_(static_cast<std::size_t>(bins), 0.0) {
  if (bins < 1) throw std::invalid_argument("histogram needs at least one bin");
}

int Histogram::bin(double value) const {
  const auto n = static_cast<int>(counts_.size());
  const double x = (value - lo_) / (hi_ - lo_) * n;
  if (!(x >= 0)) return 0;
  return std::min(static_cast<int>(x), n - 1);
}

void Histogram::add(double value, double weight) {
  counts_[static_cast<std::size_t>(bin(value))] += weight;
}

void Histogram::merge(const Histogram& other) {
  if (other.counts_.size() != counts_.size() || other.lo_ != lo_ || other.hi_ != hi_) {
    throw std::invalid_argument("histogram merge: different bins");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

std::vector<double> Histogram::edges() const {
  std::vector<double> e(counts_.size() + 1);
  for (std::size_t i = 0; i < e.size(); ++i) {
    e[i] = lo_ + (hi_ - lo_) * static_cast<double>(i) / static_cast<double>(counts_.size());
  }
  return e;
}

}  // namespace othrun::analysis
