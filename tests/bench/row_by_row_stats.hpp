// sae_correlation's accumulation as it was before the per-feature regrouping of
// FeatureClassStats::consume: row by row, one logarithm per value, each non-zero scattering 64 adds
// into a random feature's accumulators. The benchmark times it against the current kernel on the
// same chunks and checks that both hold the same sums (bit for bit) and counts.
#pragma once

#include <othrun/analysis/class_stats.hpp>

#include <cstdint>
#include <span>
#include <thread>
#include <vector>

namespace othrun::bench {

struct RowByRowStats {
  std::int64_t d_sae;
  analysis::LogBins bins;
  std::vector<std::uint64_t> fired;
  std::vector<double> sum_act, sum_act2, act_class;  // [d_sae], [d_sae], [d_sae, 192]
  std::vector<std::uint32_t> hist;                   // [d_sae, bins, 192]
  std::vector<std::uint64_t> hist_total;             // [d_sae, bins]

  RowByRowStats(std::int64_t d, analysis::LogBins b)
      : d_sae(d),
        bins(b),
        fired(static_cast<std::size_t>(d)),
        sum_act(static_cast<std::size_t>(d)),
        sum_act2(static_cast<std::size_t>(d)),
        act_class(static_cast<std::size_t>(d) * analysis::kClasses),
        hist(static_cast<std::size_t>(d) * static_cast<std::size_t>(b.bins) * analysis::kClasses),
        hist_total(static_cast<std::size_t>(d) * static_cast<std::size_t>(b.bins)) {}

  void consume(const analysis::SparseRows& features, std::span<const std::uint8_t> codes,
               std::span<const std::uint8_t> keep, int threads) {
    const int n = std::max(1, std::min<int>(threads, static_cast<int>(d_sae)));
    std::vector<std::thread> pool;
    for (int t = 0; t < n; ++t) {
      const std::int64_t lo = d_sae * t / n, hi = d_sae * (t + 1) / n;
      pool.emplace_back([&, lo, hi] { consume_features(features, codes, keep, lo, hi); });
    }
    for (auto& th : pool) th.join();
  }

  void consume_features(const analysis::SparseRows& features, std::span<const std::uint8_t> codes,
                        std::span<const std::uint8_t> keep, std::int64_t f_lo, std::int64_t f_hi) {
    using analysis::kClasses;
    using analysis::kSquares;
    using analysis::kStates;
    std::int32_t cols[kSquares];
    const auto n_bins = static_cast<std::size_t>(bins.bins);
    for (std::int64_t r = 0; r < features.rows(); ++r) {
      const auto ru = static_cast<std::size_t>(r);
      if (!keep[ru]) continue;
      for (int s = 0; s < kSquares; ++s) cols[s] = s * kStates + codes[ru * kSquares + s];
      for (auto i = features.row_ptr[ru]; i < features.row_ptr[ru + 1]; ++i) {
        const std::int64_t f = features.index[static_cast<std::size_t>(i)];
        const float v = features.value[static_cast<std::size_t>(i)];
        if (f < f_lo || f >= f_hi || !(v > 0.0f)) continue;
        const auto fi = static_cast<std::size_t>(f);
        ++fired[fi];
        sum_act[fi] += v;
        sum_act2[fi] += double{v} * v;
        const auto b = static_cast<std::size_t>(bins.bin(v));
        ++hist_total[fi * n_bins + b];
        double* act = act_class.data() + fi * kClasses;
        std::uint32_t* h = hist.data() + (fi * n_bins + b) * kClasses;
        for (int s = 0; s < kSquares; ++s) {
          act[cols[s]] += v;
          ++h[cols[s]];
        }
      }
    }
  }

  // Number of (feature, ...) entries where `stats` differs from these sums and counts.
  std::uint64_t mismatches(const analysis::FeatureClassStats& stats) const {
    std::uint64_t bad = 0;
    const auto n_bins = static_cast<std::size_t>(bins.bins);
    for (std::int64_t f = 0; f < d_sae; ++f) {
      const auto fi = static_cast<std::size_t>(f);
      bad += stats.fired(f) != fired[fi];
      bad += stats.sum_act(f) != sum_act[fi] || stats.sum_act2(f) != sum_act2[fi];
      const auto total = stats.feature_histogram(f);
      for (std::size_t b = 0; b < n_bins; ++b) bad += total[b] != hist_total[fi * n_bins + b];
      for (int j = 0; j < analysis::kClasses; ++j) {
        bad += stats.act_class(f, j) != act_class[fi * analysis::kClasses + j];
        const auto per_bin = stats.class_histogram(f, j);
        for (std::size_t b = 0; b < n_bins; ++b)
          bad += per_bin[b] != hist[(fi * n_bins + b) * analysis::kClasses + j];
      }
    }
    return bad;
  }
};

}  // namespace othrun::bench
