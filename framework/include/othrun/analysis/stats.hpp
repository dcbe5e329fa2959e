// Small exact statistics shared by the analysis plugins: torch-compatible quantile, exact AUROC,
// summaries, fixed-edge histograms and a bounded top-k selection.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

namespace othrun::analysis {

// torch.quantile(values, q) with interpolation="linear" on a float32 tensor: the rank q*(n-1) and
// the interpolation are computed in float32 as torch does, so `x > quantile` selects the same
// elements as the notebook. Exact: it sorts a copy of all values (4 bytes per value).
float quantile_linear(std::vector<float> values, double q);

// Area under the ROC curve of `scores` for the binary `labels` (Mann-Whitney U; ties count half).
// NaN when one class is empty. O(n log n), exact.
double exact_auroc(std::span<const float> scores, std::span<const std::uint8_t> labels);

// AUROC from per-bin counts of positives and negatives over the same increasing bins: pairs in a
// common bin count half. `tie_bound` (optional) receives the largest possible error from that,
// i.e. 0.5 * sum_b pos_b * neg_b / (P * N).
double binned_auroc(std::span<const double> positives, std::span<const double> negatives,
                    double* tie_bound = nullptr);

struct Summary {
  std::uint64_t count = 0;
  double mean = 0, std = 0, min = 0, max = 0;  // std: population (ddof = 0); 0 when count == 0
};
Summary summarize(std::span<const float> values);

// Counts per equal-width bin over [lo, hi]; values outside are clamped into the end bins
// (hi itself falls into the last bin, as numpy.histogram does).
class Histogram {
 public:
  Histogram(double lo, double hi, int bins);
  void add(double value, double weight = 1.0);
  void merge(const Histogram& other);
  int bin(double value) const;
  std::vector<double> edges() const;
  const std::vector<double>& counts() const { return counts_; }

 private:
  double lo_, hi_;
  std::vector<double> counts_;
};

// The k largest (score, item) pairs seen, kept in a min-heap. Ties keep the earlier item.
template <class Item>
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) {}
  void push(double score, const Item& item) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back({score, seq_++, item});
      std::push_heap(heap_.begin(), heap_.end(), worse_last);
    } else if (score > heap_.front().score) {
      std::pop_heap(heap_.begin(), heap_.end(), worse_last);
      heap_.back() = {score, seq_++, item};
      std::push_heap(heap_.begin(), heap_.end(), worse_last);
    }
  }
  // Best first; equal scores in insertion order.
  std::vector<std::pair<double, Item>> sorted() const {
    auto entries = heap_;
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.score != b.score ? a.score > b.score : a.seq < b.seq;
    });
    std::vector<std::pair<double, Item>> out;
    for (const auto& e : entries) out.emplace_back(e.score, e.item);
    return out;
  }

 private:
  struct Entry {
    double score;
    std::uint64_t seq;
    Item item;
  };
  // Heap order: the front is the entry that leaves first (lowest score, then latest).
  static bool worse_last(const Entry& a, const Entry& b) {
    return a.score != b.score ? a.score > b.score : a.seq < b.seq;
  }
  std::size_t k_;
  std::uint64_t seq_ = 0;
  std::vector<Entry> heap_;
};

}  // namespace othrun::analysis
