#include <othrun/analysis/class_stats.hpp>

#include <othrun/analysis/stats.hpp>

#include <algorithm>
#include <bit>
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
  fired_class_.clear();
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

namespace {

std::uint32_t float_bits(float v) { return std::bit_cast<std::uint32_t>(v); }

// LogBins::bin without a logarithm per value: bin() is non-decreasing in the value, so bin b
// starts at the smallest float whose bin is >= b, found once by bisection over the (ordered) bit
// patterns of positive floats. Values within a few ulps of a start go through bin() itself, so
// the result equals bin() even if log() were not monotone to the last ulp.
class BinLookup {
 public:
  explicit BinLookup(const LogBins& bins) : bins_(bins) {
    for (int b = 1; b < bins.bins; ++b) {
      std::uint32_t lo = 1, hi = float_bits(std::numeric_limits<float>::max());
      while (lo < hi) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        if (bins.bin(std::bit_cast<float>(mid)) >= b) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      starts_.push_back(std::bit_cast<float>(lo));
    }
  }

  // `v` > 0 and not NaN.
  int operator()(float v) const {
    // Counting the starts <= v without branches (a binary search mispredicts about every step).
    int b = 0;
    for (const float start : starts_) b += v >= start ? 1 : 0;
    constexpr std::uint32_t kGuardUlps = 8;
    const std::uint32_t u = float_bits(v);
    const bool near_lower =
        b > 0 && u - float_bits(starts_[static_cast<std::size_t>(b - 1)]) < kGuardUlps;
    const bool near_upper = b < static_cast<int>(starts_.size()) &&
                            float_bits(starts_[static_cast<std::size_t>(b)]) - u <= kGuardUlps;
    return near_lower || near_upper ? bins_.bin(v) : b;
  }

 private:
  const LogBins& bins_;
  std::vector<float> starts_;  // starts_[b - 1]: first value of bin b, b = 1..bins-1
};

// One fired activation of a chunk, grouped by feature.
struct Firing {
  std::uint32_t row;
  float value;
  std::int32_t bin;
};

}  // namespace

void FeatureClassStats::consume_features(const SparseRows& features,
                                         std::span<const std::uint8_t> codes,
                                         std::span<const std::uint8_t> keep, std::int64_t f_lo,
                                         std::int64_t f_hi) {
  // The chunk is regrouped by feature first: each feature's accumulators (act_class row and its
  // histogram rows, ~26 KB for 32 bins) then stay in cache while all its firings are added, where
  // going row by row touches a random feature's ~36 cache lines per non-zero. Within a feature
  // the firings keep their row order, so every double sum adds the same terms in the same order
  // as row-by-row accumulation: the results are bit-identical.
  const BinLookup bin_of(bins_);
  const auto n_features = static_cast<std::size_t>(f_hi - f_lo);
  std::vector<std::size_t> start(n_features + 1, 0);
  const std::int64_t rows = features.rows();
  auto fired_entry = [&](std::int64_t i) {
    const std::int64_t f = features.index[static_cast<std::size_t>(i)];
    return f >= f_lo && f < f_hi && features.value[static_cast<std::size_t>(i)] > 0.0f;
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!keep[static_cast<std::size_t>(r)]) continue;
    for (auto i = features.row_ptr[static_cast<std::size_t>(r)];
         i < features.row_ptr[static_cast<std::size_t>(r) + 1]; ++i) {
      if (fired_entry(i))
        ++start[static_cast<std::size_t>(features.index[static_cast<std::size_t>(i)] - f_lo) + 1];
    }
  }
  for (std::size_t f = 0; f < n_features; ++f) start[f + 1] += start[f];
  std::vector<Firing> firings(start[n_features]);
  std::vector<std::size_t> next(start.begin(), start.end() - 1);
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!keep[static_cast<std::size_t>(r)]) continue;
    for (auto i = features.row_ptr[static_cast<std::size_t>(r)];
         i < features.row_ptr[static_cast<std::size_t>(r) + 1]; ++i) {
      if (!fired_entry(i)) continue;
      const float v = features.value[static_cast<std::size_t>(i)];
      const auto slot =
          static_cast<std::size_t>(features.index[static_cast<std::size_t>(i)] - f_lo);
      firings[next[slot]++] = Firing{static_cast<std::uint32_t>(r), v, bin_of(v)};
    }
  }
  // Class column j = square * 3 + state of every square of every row (j < 192 fits a byte).
  std::vector<std::uint8_t> cols(static_cast<std::size_t>(rows) * kSquares);
  for (std::size_t i = 0; i < cols.size(); ++i)
    cols[i] = static_cast<std::uint8_t>(static_cast<int>(i % kSquares) * kStates + codes[i]);

  const auto n_bins = static_cast<std::size_t>(bins_.bins);
  constexpr std::size_t kLookahead = 4;
  for (std::size_t slot = 0; slot < n_features; ++slot) {
    const std::int64_t f = f_lo + static_cast<std::int64_t>(slot);
    const auto fi = static_cast<std::size_t>(f);
    double* act = act_class_.data() + fi * kClasses;
    std::uint64_t* hist_total = hist_total_.data() + fi * n_bins;
    double sum = sum_act_[fi], sum2 = sum_act2_[fi];
    const std::size_t end = start[slot + 1];
    for (std::size_t e = start[slot]; e < end; ++e) {
      // The row's classes and the bin's counts of a firing a few ahead come from L3 or memory;
      // one firing's 64 updates are too many instructions for the CPU to look that far itself.
      if (e + kLookahead < end) {
        const Firing& ahead = firings[e + kLookahead];
        const std::uint8_t* row = cols.data() + std::size_t{ahead.row} * kSquares;
        __builtin_prefetch(row);
        __builtin_prefetch(row + kSquares - 1);  // a row may straddle two cache lines
        const char* counts = reinterpret_cast<const char*>(hist_row(f, ahead.bin));
        for (std::size_t line = 0; line < kClasses * sizeof(std::uint32_t); line += 64)
          __builtin_prefetch(counts + line, 1);
      }
      const Firing& firing = firings[e];
      const float v = firing.value;
      sum += v;
      sum2 += double{v} * v;
      ++hist_total[firing.bin];
      std::uint32_t* hist = hist_row(f, firing.bin);
      const std::uint8_t* row_cols = cols.data() + std::size_t{firing.row} * kSquares;
#pragma GCC unroll 16
      for (int s = 0; s < kSquares; ++s) {
        const std::uint8_t j = row_cols[s];
        act[j] += v;
        ++hist[j];
      }
    }
    fired_[fi] += start[slot + 1] - start[slot];
    sum_act_[fi] = sum;
    sum_act2_[fi] = sum2;
  }
}

void FeatureClassStats::merge(const FeatureClassStats& other) {
  if (other.d_sae_ != d_sae_ || other.bins_.bins != bins_.bins || other.bins_.lo != bins_.lo ||
      other.bins_.hi != bins_.hi) {
    throw std::invalid_argument("FeatureClassStats::merge: different shapes or bins");
  }
  fired_class_.clear();
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

void FeatureClassStats::save(ByteWriter& out) const {
  out.put(d_sae_).put(bins_.lo).put(bins_.hi).put(bins_.bins).put(rows_);
  out.put(class_count_).put(fired_).put(sum_act_).put(sum_act2_).put(act_class_).put(hist_);
  out.put(hist_total_);
}

FeatureClassStats FeatureClassStats::load(ByteReader& in) {
  const auto d_sae = in.get<std::int64_t>();
  LogBins bins;
  bins.lo = in.get<double>();
  bins.hi = in.get<double>();
  bins.bins = in.get<int>();
  FeatureClassStats s(0, bins);
  s.d_sae_ = d_sae;
  s.rows_ = in.get<std::uint64_t>();
  s.class_count_ = in.get_vector<std::uint64_t>();
  s.fired_ = in.get_vector<std::uint64_t>();
  s.sum_act_ = in.get_vector<double>();
  s.sum_act2_ = in.get_vector<double>();
  s.act_class_ = in.get_vector<double>();
  s.hist_ = in.get_vector<std::uint32_t>();
  s.hist_total_ = in.get_vector<std::uint64_t>();
  return s;
}

void FloatSums::merge(const FloatSums& right) {
  for (auto [a, b] : {std::pair{&sum_act, &right.sum_act},
                      {&sum_act2, &right.sum_act2},
                      {&act_class, &right.act_class}}) {
    for (std::size_t i = 0; i < a->size(); ++i) (*a)[i] += (*b)[i];
  }
}

void FloatSums::save(ByteWriter& out) const { out.put(sum_act).put(sum_act2).put(act_class); }

FloatSums FloatSums::load(ByteReader& in) {
  FloatSums s;
  s.sum_act = in.get_vector<double>();
  s.sum_act2 = in.get_vector<double>();
  s.act_class = in.get_vector<double>();
  return s;
}

FloatSums FeatureClassStats::take_float_sums() {
  FloatSums out{sum_act_, sum_act2_, act_class_};
  std::fill(sum_act_.begin(), sum_act_.end(), 0.0);
  std::fill(sum_act2_.begin(), sum_act2_.end(), 0.0);
  std::fill(act_class_.begin(), act_class_.end(), 0.0);
  return out;
}

void FeatureClassStats::set_float_sums(FloatSums sums) {
  if (sums.sum_act.size() != sum_act_.size() || sums.act_class.size() != act_class_.size()) {
    throw std::invalid_argument("FeatureClassStats::set_float_sums: another shape");
  }
  sum_act_ = std::move(sums.sum_act);
  sum_act2_ = std::move(sums.sum_act2);
  act_class_ = std::move(sums.act_class);
}

void FeatureClassStats::summarize() {
  fired_class_.assign(static_cast<std::size_t>(d_sae_) * kClasses, 0);
  for (std::int64_t f = 0; f < d_sae_; ++f) {
    std::uint64_t* out = fired_class_.data() + static_cast<std::size_t>(f) * kClasses;
    for (int b = 0; b < bins_.bins; ++b) {
      const std::uint32_t* counts = hist_row(f, b);
      for (int j = 0; j < kClasses; ++j) out[j] += counts[j];
    }
  }
}

std::uint64_t FeatureClassStats::fired_class(std::int64_t f, int j) const {
  if (!fired_class_.empty())
    return fired_class_[static_cast<std::size_t>(f) * kClasses + static_cast<std::size_t>(j)];
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
