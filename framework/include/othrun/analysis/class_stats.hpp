// Streaming statistics of SAE features against per-square board classes: for every feature f and
// class column j = square * 3 + state (state 0 empty, 1 theirs/white, 2 mine/black) it keeps
// exactly what Pearson correlations, 2x2 counts, F1 and a binned AUROC need, so the dense
// [positions, features] matrix never exists. Accumulators of separate chunks merge by addition.
//
// Per non-zero activation v of feature f in a row whose squares are in classes j_0..j_63:
//   act_class[f, j_s] += v,  hist[f, bin(v), j_s] += 1   (64 scatters; the rows are sparse)
// Per feature: fired count, sum v, sum v^2 (double). Per class: row counts. fired_class[f, j] is
// the sum of hist over bins. Zero activations ("not fired") form an implicit exact bin 0.
#pragma once

#include <othrun/analysis/sparse.hpp>
#include <othrun/ranks.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace othrun::analysis {

inline constexpr int kSquares = 64;
inline constexpr int kStates = 3;
inline constexpr int kClasses = kSquares * kStates;

// Log-spaced bins of positive values: [lo, hi] in `bins` bins; values outside go to the end bins.
struct LogBins {
  double lo = 1e-3;
  double hi = 1e3;
  int bins = 32;
  int bin(float value) const;
  std::vector<double> edges() const;  // bins + 1 edges
};

// The floating sums of FeatureClassStats (sum_act, sum_act2, act_class): the part whose total
// depends on the order of additions, summed through a BlockTree (othrun/ranks.hpp).
struct FloatSums {
  std::vector<double> sum_act, sum_act2, act_class;
  void merge(const FloatSums& right);
  void save(ByteWriter& out) const;
  static FloatSums load(ByteReader& in);
};

class FeatureClassStats {
 public:
  FeatureClassStats(std::int64_t d_sae, LogBins bins);

  // `features`: CSR rows; `codes`: [rows, 64] class codes (0..2) per square; rows with
  // keep[r] == 0 are skipped (positions after a game's end). Non-positive values count as not
  // fired. Splits the features among `threads` threads.
  void consume(const SparseRows& features, std::span<const std::uint8_t> codes,
               std::span<const std::uint8_t> keep, int threads = 1);
  void merge(const FeatureClassStats& other);
  // What is sent between ranks (othrun/ranks.hpp).
  void save(ByteWriter& out) const;
  static FeatureClassStats load(ByteReader& in);
  // The floating sums so far, which are then zero again (the counts stay): a chunk's sums.
  FloatSums take_float_sums();
  void set_float_sums(FloatSums sums);
  // Tabulates fired_class for every (feature, class) so that it costs O(1) instead of O(bins)
  // until the next consume or merge; the numbers do not change.
  void summarize();

  std::int64_t d_sae() const { return d_sae_; }
  const LogBins& bins() const { return bins_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t class_count(int j) const { return class_count_[static_cast<std::size_t>(j)]; }
  std::uint64_t fired(std::int64_t f) const { return fired_[static_cast<std::size_t>(f)]; }
  double sum_act(std::int64_t f) const { return sum_act_[static_cast<std::size_t>(f)]; }
  double sum_act2(std::int64_t f) const { return sum_act2_[static_cast<std::size_t>(f)]; }
  double act_class(std::int64_t f, int j) const {
    return act_class_[static_cast<std::size_t>(f) * kClasses + static_cast<std::size_t>(j)];
  }
  // Rows of class j where feature f fired (sums the histogram: O(bins)).
  std::uint64_t fired_class(std::int64_t f, int j) const;
  // Positive-value histogram of feature f in class j (bins entries), and over all rows.
  std::vector<double> class_histogram(std::int64_t f, int j) const;
  std::vector<double> feature_histogram(std::int64_t f) const;

  // Pearson correlation (phi) of "fired" (> 0) with "in class j"; 0 when either is constant.
  double firing_corr(std::int64_t f, int j) const;
  // Pearson correlation of the activation with "in class j"; 0 when either is constant.
  double act_corr(std::int64_t f, int j) const;
  // F1 of "fired" as a prediction of "in class j"; 0 when there is no positive and no firing.
  double f1(std::int64_t f, int j) const;
  // AUROC of the activation as a score for "in class j" (binned; NaN when a class is empty) and
  // the largest error the binning can cause.
  double auroc(std::int64_t f, int j, double* tie_bound = nullptr) const;

 private:
  std::uint32_t* hist_row(std::int64_t f, int bin) {
    return hist_.data() + (static_cast<std::size_t>(f) * static_cast<std::size_t>(bins_.bins) +
                           static_cast<std::size_t>(bin)) *
                              kClasses;
  }
  const std::uint32_t* hist_row(std::int64_t f, int bin) const {
    return const_cast<FeatureClassStats*>(this)->hist_row(f, bin);
  }
  void consume_features(const SparseRows& features, std::span<const std::uint8_t> codes,
                        std::span<const std::uint8_t> keep, std::int64_t f_lo, std::int64_t f_hi);

  std::int64_t d_sae_;
  LogBins bins_;
  std::uint64_t rows_ = 0;
  std::vector<std::uint64_t> class_count_;  // [192]
  std::vector<std::uint64_t> fired_;        // [d_sae]
  std::vector<double> sum_act_, sum_act2_;  // [d_sae]
  std::vector<double> act_class_;           // [d_sae, 192]
  std::vector<std::uint32_t> hist_;         // [d_sae, bins, 192]
  std::vector<std::uint64_t> hist_total_;   // [d_sae, bins]
  std::vector<std::uint64_t> fired_class_;  // [d_sae, 192] after summarize(), else empty
};

// Pearson correlation of two binary variables from their 2x2 counts (n11: both, a: first total,
// b: second total, n: rows); 0 when either is constant.
double phi_coefficient(double n11, double a, double b, double n);

}  // namespace othrun::analysis
