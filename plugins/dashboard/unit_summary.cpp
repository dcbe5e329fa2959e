#include "unit_summary.hpp"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <unordered_map>

namespace othrun::dashboard {

namespace {

struct Entry {
  float value;
  std::uint32_t row;
};

// Stable LSD radix sort by value (float bits mapped to an order-preserving unsigned key): O(n),
// where std::sort of a dense unit's ~60k values per unit dominated the step.
void radix_sort(std::vector<Entry>& entries) {
  auto key = [](float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
  };
  std::vector<Entry> buffer(entries.size());
  for (int shift = 0; shift < 32; shift += 8) {
    std::array<std::size_t, 257> start{};
    for (const Entry& e : entries) ++start[((key(e.value) >> shift) & 0xff) + 1];
    for (std::size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    for (const Entry& e : entries) buffer[start[(key(e.value) >> shift) & 0xff]++] = e;
    entries.swap(buffer);
  }
}

void fill_histogram(const std::vector<Entry>& sorted, int bins, UnitSummary& s) {
  if (sorted.empty()) return;
  double lo = sorted.front().value, hi = sorted.back().value;
  if (lo == hi) {  // one distinct value: a unit-wide bin around it
    lo -= 0.5;
    hi += 0.5;
  }
  s.edges.resize(static_cast<std::size_t>(bins) + 1);
  for (int b = 0; b <= bins; ++b) s.edges[static_cast<std::size_t>(b)] = lo + (hi - lo) * b / bins;
  s.counts.assign(static_cast<std::size_t>(bins), 0);
  for (const Entry& e : sorted) {
    const double at = std::floor((double{e.value} - lo) / (hi - lo) * bins);
    const int b = std::clamp(static_cast<int>(at), 0, bins - 1);
    ++s.counts[static_cast<std::size_t>(b)];
  }
}

// Top examples from the largest non-zero values, then `group_examples` random rows of each
// equal-count group of the active values (highest group first). Rows with the moves of an
// example already shown (the same model input) are skipped.
void pick_examples(const std::vector<Entry>& sorted, std::size_t first_active,
                   const RowTable& table, const SummaryOptions& options, std::uint64_t seed,
                   UnitSummary& s) {
  std::set<std::uint64_t> taken;
  auto take = [&](const Entry& e, int group) {
    if (!taken.insert(table.prefix[e.row]).second) return false;
    s.examples.push_back({e.row, e.value, group, table.prefix_count[e.row] - 1});
    return true;
  };
  int top = 0;
  for (std::size_t i = sorted.size(); i-- > 0 && top < options.top_examples;)
    top += take(sorted[i], -1) ? 1 : 0;
  const std::size_t m = sorted.size() - first_active;
  if (m == 0) return;
  const auto groups = static_cast<std::size_t>(options.groups);
  s.bounds.resize(groups + 1);
  for (std::size_t g = 0; g < groups; ++g)
    s.bounds[g] = sorted[first_active + std::min(g * m / groups, m - 1)].value;
  s.bounds[groups] = sorted.back().value;
  std::mt19937_64 rng(seed);
  for (std::size_t g = groups; g-- > 0;) {
    const std::size_t begin = first_active + g * m / groups;
    const std::size_t end = first_active + (g + 1) * m / groups;
    // Random members whose moves are not shown yet: draws with retries (cheap, groups are large),
    // then, for a group that is mostly taken, a scan of what is left.
    std::vector<std::size_t> chosen;
    auto fits = [&](std::size_t i) { return !taken.count(table.prefix[sorted[i].row]); };
    auto choose = [&](std::size_t i) {
      taken.insert(table.prefix[sorted[i].row]);
      chosen.push_back(i);
    };
    const auto wanted = static_cast<std::size_t>(options.group_examples);
    if (end > begin) {
      std::uniform_int_distribution<std::size_t> pick(begin, end - 1);
      for (int attempt = 0; attempt < 16 * options.group_examples && chosen.size() < wanted;
           ++attempt) {
        const std::size_t i = pick(rng);
        if (fits(i)) choose(i);
      }
    }
    for (std::size_t i = begin; i < end && chosen.size() < wanted; ++i)
      if (fits(i)) choose(i);
    std::sort(chosen.begin(), chosen.end(), [](std::size_t a, std::size_t b) { return a > b; });
    for (std::size_t i : chosen)
      s.examples.push_back({sorted[i].row, sorted[i].value, static_cast<int>(g),
                            table.prefix_count[sorted[i].row] - 1});
  }
}

// AUROC of the unit's value as a score for each state in `states` (Mann-Whitney with mid-ranks
// over every kept row; the zeros, not in `sorted`, share one mid-rank).
std::vector<float> ranked_auroc(const std::vector<Entry>& sorted, const RowTable& table,
                                const std::vector<StateScore>& states) {
  const auto n = static_cast<double>(table.kept);
  const double zeros = n - static_cast<double>(sorted.size());
  const std::size_t k = states.size();
  std::vector<double> rank_sum(k, 0.0), in_class(k, 0.0);
  std::vector<double> rank(table.keep.size(), 0.0);  // mid-rank of each non-zero row (ranks >= 1)
  double below = 0;      // ranks taken before the current run of equal values
  double zero_rank = 0;  // the mid-rank the zeros share: after the negatives, before positives
  bool zeros_placed = false;
  for (std::size_t i = 0; i < sorted.size();) {
    if (!zeros_placed && sorted[i].value > 0) {
      zero_rank = below + (zeros + 1) / 2;
      below += zeros;
      zeros_placed = true;
    }
    std::size_t j = i;
    while (j < sorted.size() && sorted[j].value == sorted[i].value) ++j;
    const double mid = below + (static_cast<double>(j - i) + 1) / 2;
    for (std::size_t e = i; e < j; ++e) rank[sorted[e].row] = mid;
    below += static_cast<double>(j - i);
    i = j;
  }
  // Then each state's rows in order (one square's states are contiguous in codes_by_square).
  const std::size_t rows = rank.size();
  for (std::size_t q = 0; q < k; ++q) {
    const std::uint8_t* codes =
        table.codes_by_square.data() + static_cast<std::size_t>(states[q].column / 3) * rows;
    const auto state = static_cast<std::uint8_t>(states[q].column % 3);
    for (std::size_t r = 0; r < rows; ++r) {
      // rank 0: a zero (added below) or a row that does not exist
      if (codes[r] == state && rank[r] != 0) {
        rank_sum[q] += rank[r];
        in_class[q] += 1;
      }
    }
  }
  if (!zeros_placed) zero_rank = below + (zeros + 1) / 2;
  std::vector<float> out(k, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t q = 0; q < k; ++q) {
    const auto c =
        static_cast<double>(table.class_count[static_cast<std::size_t>(states[q].column)]);
    if (c == 0 || c == n) continue;
    const double total = rank_sum[q] + (c - in_class[q]) * zero_rank;
    out[q] = static_cast<float>((total - c * (c + 1) / 2) / (c * (n - c)));
  }
  return out;
}

std::vector<StateScore> top_states(const StateStats& stats, int count) {
  std::vector<int> columns(kStateColumns);
  for (int j = 0; j < kStateColumns; ++j) columns[static_cast<std::size_t>(j)] = j;
  auto key = [&](int j) {
    const float v = stats.firing_corr[static_cast<std::size_t>(j)];
    return std::isnan(v) ? -2.0f : v;
  };
  std::stable_sort(columns.begin(), columns.end(), [&](int a, int b) { return key(a) > key(b); });
  std::vector<StateScore> out;
  for (int i = 0; i < count && i < kStateColumns; ++i) {
    const auto j = static_cast<std::size_t>(columns[static_cast<std::size_t>(i)]);
    out.push_back({columns[static_cast<std::size_t>(i)], stats.firing_corr[j], stats.act_corr[j],
                   stats.f1[j], stats.auroc[j]});
  }
  return out;
}

}  // namespace

RowTable make_row_table(std::vector<std::uint8_t> keep, std::vector<std::uint8_t> codes,
                        std::vector<std::uint64_t> prefix) {
  RowTable t;
  t.keep = std::move(keep);
  t.codes = std::move(codes);
  t.prefix = std::move(prefix);
  const std::size_t rows = t.keep.size();
  t.codes_by_square.resize(rows * 64);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t s = 0; s < 64; ++s) t.codes_by_square[s * rows + r] = t.codes[r * 64 + s];
  std::unordered_map<std::uint64_t, std::uint32_t> count;
  for (std::size_t r = 0; r < t.keep.size(); ++r)
    if (t.keep[r]) ++count[t.prefix[r]];
  t.prefix_count.resize(t.keep.size());
  for (std::size_t r = 0; r < t.keep.size(); ++r)
    t.prefix_count[r] = t.keep[r] ? count[t.prefix[r]] : 0;
  t.class_count.assign(kStateColumns, 0);
  for (std::size_t r = 0; r < t.keep.size(); ++r) {
    if (!t.keep[r]) continue;
    ++t.kept;
    for (std::size_t s = 0; s < 64; ++s) ++t.class_count[s * 3 + t.codes[r * 64 + s]];
  }
  return t;
}

StateSums state_sums(std::span<const float> values, const RowTable& table) {
  StateSums out;
  out.value_in_class.assign(kStateColumns, 0.0);
  out.fired_in_class.assign(kStateColumns, 0.0);
  for (std::size_t r = 0; r < values.size(); ++r) {
    const float v = values[r];
    if (!table.keep[r] || v == 0) continue;
    out.sum += v;
    out.sum_sq += double{v} * v;
    const std::uint8_t* codes = table.codes.data() + r * 64;
    for (std::size_t s = 0; s < 64; ++s) out.value_in_class[s * 3 + codes[s]] += v;
    if (v > 0) {
      out.fired += 1;
      for (std::size_t s = 0; s < 64; ++s) out.fired_in_class[s * 3 + codes[s]] += 1;
    }
  }
  return out;
}

std::vector<StateSums> block_state_sums(const std::vector<float>& block, std::int64_t count,
                                        const RowTable& table) {
  const std::size_t rows = table.keep.size(), units = static_cast<std::size_t>(count);
  constexpr std::size_t kChunk = 1024;
  // C [2 * units, 192] += A [2 * units, chunk] (values, then fired indicators) x B [chunk, 192]
  // (one-hot board states; rows that do not exist are zero).
  std::vector<double> a(2 * units * kChunk), b(kChunk * kStateColumns),
      c(2 * units * kStateColumns);
  std::vector<StateSums> out(units);
  for (std::size_t r0 = 0; r0 < rows; r0 += kChunk) {
    const std::size_t n = std::min(kChunk, rows - r0);
    std::fill(b.begin(), b.end(), 0.0);
    for (std::size_t r = 0; r < n; ++r) {
      if (!table.keep[r0 + r]) continue;
      const std::uint8_t* codes = table.codes.data() + (r0 + r) * 64;
      for (std::size_t s = 0; s < 64; ++s) b[r * kStateColumns + s * 3 + codes[s]] = 1.0;
    }
    for (std::size_t u = 0; u < units; ++u) {
      const float* v = block.data() + u * rows + r0;
      double* av = a.data() + u * n;
      double* af = a.data() + (units + u) * n;
      for (std::size_t r = 0; r < n; ++r) {
        const double x = table.keep[r0 + r] ? double{v[r]} : 0.0;
        av[r] = x;
        af[r] = x > 0 ? 1.0 : 0.0;
        out[u].sum += x;
        out[u].sum_sq += x * x;
        out[u].fired += af[r];
      }
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(2 * units),
                kStateColumns, static_cast<int>(n), 1.0, a.data(), static_cast<int>(n), b.data(),
                kStateColumns, 1.0, c.data(), kStateColumns);
  }
  for (std::size_t u = 0; u < units; ++u) {
    out[u].value_in_class.assign(c.begin() + static_cast<std::ptrdiff_t>(u * kStateColumns),
                                 c.begin() + static_cast<std::ptrdiff_t>((u + 1) * kStateColumns));
    out[u].fired_in_class.assign(
        c.begin() + static_cast<std::ptrdiff_t>((units + u) * kStateColumns),
        c.begin() + static_cast<std::ptrdiff_t>((units + u + 1) * kStateColumns));
  }
  return out;
}

StateStats state_stats(const StateSums& sums, const RowTable& table) {
  const auto n = static_cast<double>(table.kept);
  StateStats out;
  out.firing_corr.assign(kStateColumns, 0.0f);
  out.act_corr.assign(kStateColumns, 0.0f);
  out.f1.assign(kStateColumns, 0.0f);
  out.auroc.assign(kStateColumns, std::numeric_limits<float>::quiet_NaN());
  if (n == 0) return out;
  const double mean_v = sums.sum / n, var_v = sums.sum_sq / n - mean_v * mean_v;
  const double mean_f = sums.fired / n, var_f = mean_f * (1 - mean_f);
  for (std::size_t j = 0; j < kStateColumns; ++j) {
    const auto c = static_cast<double>(table.class_count[j]);
    const double mean_x = c / n, var_x = mean_x * (1 - mean_x);
    const double both = sums.fired_in_class[j];
    if (var_x > 0 && var_v > 0)
      out.act_corr[j] = static_cast<float>((sums.value_in_class[j] / n - mean_v * mean_x) /
                                           std::sqrt(var_v * var_x));
    if (var_x > 0 && var_f > 0)
      out.firing_corr[j] =
          static_cast<float>((both / n - mean_f * mean_x) / std::sqrt(var_f * var_x));
    if (sums.fired + c > 0) out.f1[j] = static_cast<float>(2 * both / (sums.fired + c));
  }
  return out;
}

UnitSummary summarize(std::span<const float> values, const RowTable& table,
                      const SummaryOptions& options, std::uint64_t seed, const StateStats& stats,
                      bool rank_auroc) {
  UnitSummary s;
  std::vector<Entry> sorted;
  double sum = 0;
  s.min = std::numeric_limits<float>::infinity();
  s.max = -std::numeric_limits<float>::infinity();
  // Rows visited last to first: the stable sort then orders equal values by descending row.
  for (std::size_t r = values.size(); r-- > 0;) {
    if (!table.keep[r]) continue;
    const float v = values[r];
    ++s.kept;
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    if (v > 0) ++s.active;
    if (v != 0) sorted.push_back({v, static_cast<std::uint32_t>(r)});
  }
  if (s.kept == 0) s.min = s.max = 0;
  s.density = s.kept ? static_cast<double>(s.active) / static_cast<double>(s.kept) : 0.0;
  s.mean = s.kept ? sum / static_cast<double>(s.kept) : 0.0;
  radix_sort(sorted);
  fill_histogram(sorted, options.bins, s);
  const std::size_t first_active = sorted.size() - s.active;
  pick_examples(sorted, first_active, table, options, seed, s);
  s.top_states = top_states(stats, options.top_states);
  if (rank_auroc) {
    const std::vector<float> auroc = ranked_auroc(sorted, table, s.top_states);
    for (std::size_t k = 0; k < s.top_states.size(); ++k) s.top_states[k].auroc = auroc[k];
  }
  return s;
}

}  // namespace othrun::dashboard
