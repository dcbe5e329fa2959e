#include "unit_summary.hpp"

#include <algorithm>
#include <cmath>
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

// Ascending by value; equal values by descending row, so that walking from the end gives the
// largest values first and, among equal ones, the earliest row first.
bool ascending(const Entry& a, const Entry& b) {
  return a.value < b.value || (a.value == b.value && a.row > b.row);
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
    std::vector<std::size_t> members;
    for (std::size_t i = begin; i < end; ++i)
      if (!taken.count(table.prefix[sorted[i].row])) members.push_back(i);
    std::shuffle(members.begin(), members.end(), rng);
    std::vector<std::size_t> chosen;
    for (std::size_t i : members) {
      if (static_cast<int>(chosen.size()) == options.group_examples) break;
      if (!taken.count(table.prefix[sorted[i].row])) {
        taken.insert(table.prefix[sorted[i].row]);
        chosen.push_back(i);
      }
    }
    std::sort(chosen.begin(), chosen.end(), [](std::size_t a, std::size_t b) { return a > b; });
    for (std::size_t i : chosen)
      s.examples.push_back({sorted[i].row, sorted[i].value, static_cast<int>(g),
                            table.prefix_count[sorted[i].row] - 1});
  }
}

// AUROC of the unit's value as a score for "square in state" (Mann-Whitney with mid-ranks over
// every kept row; the zeros, not in `sorted`, share one mid-rank).
float rank_auroc(const std::vector<Entry>& sorted, const RowTable& table, int column) {
  const auto n = static_cast<double>(table.kept);
  const auto c = static_cast<double>(table.class_count[static_cast<std::size_t>(column)]);
  if (c == 0 || c == n) return std::numeric_limits<float>::quiet_NaN();
  const std::size_t square = static_cast<std::size_t>(column / 3);
  const auto state = static_cast<std::uint8_t>(column % 3);
  const double zeros = n - static_cast<double>(sorted.size());
  double rank_sum = 0, in_class = 0, below = 0;  // below: ranks used before the current run
  bool zeros_placed = false;
  double zero_rank = 0;  // the mid-rank the zeros share: after the negatives, before the positives
  for (std::size_t i = 0; i < sorted.size();) {
    if (!zeros_placed && sorted[i].value > 0) {
      zero_rank = below + (zeros + 1) / 2;
      below += zeros;
      zeros_placed = true;
    }
    std::size_t j = i;
    while (j < sorted.size() && sorted[j].value == sorted[i].value) ++j;
    const double mid = below + (static_cast<double>(j - i) + 1) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (table.codes[std::size_t{sorted[k].row} * 64 + square] == state) {
        rank_sum += mid;
        in_class += 1;
      }
    }
    below += static_cast<double>(j - i);
    i = j;
  }
  if (!zeros_placed) zero_rank = below + (zeros + 1) / 2;
  rank_sum += (c - in_class) * zero_rank;
  return static_cast<float>((rank_sum - c * (c + 1) / 2) / (c * (n - c)));
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

StateStats state_stats(std::span<const float> values, const RowTable& table) {
  std::vector<double> sum_class(kStateColumns, 0.0);
  std::vector<std::int64_t> fired_class(kStateColumns, 0);
  double sum = 0, sum_sq = 0, fired = 0;
  for (std::size_t r = 0; r < values.size(); ++r) {
    const float v = values[r];
    if (!table.keep[r] || v == 0) continue;
    sum += v;
    sum_sq += double{v} * v;
    const std::uint8_t* codes = table.codes.data() + r * 64;
    for (std::size_t s = 0; s < 64; ++s) sum_class[s * 3 + codes[s]] += v;
    if (v > 0) {
      fired += 1;
      for (std::size_t s = 0; s < 64; ++s) ++fired_class[s * 3 + codes[s]];
    }
  }
  const auto n = static_cast<double>(table.kept);
  StateStats out;
  out.firing_corr.assign(kStateColumns, 0.0f);
  out.act_corr.assign(kStateColumns, 0.0f);
  out.f1.assign(kStateColumns, 0.0f);
  out.auroc.assign(kStateColumns, std::numeric_limits<float>::quiet_NaN());
  if (n == 0) return out;
  const double mean_v = sum / n, var_v = sum_sq / n - mean_v * mean_v;
  const double mean_f = fired / n, var_f = mean_f * (1 - mean_f);
  for (std::size_t j = 0; j < kStateColumns; ++j) {
    const auto c = static_cast<double>(table.class_count[j]);
    const double mean_x = c / n, var_x = mean_x * (1 - mean_x);
    const auto both = static_cast<double>(fired_class[j]);
    if (var_x > 0 && var_v > 0)
      out.act_corr[j] =
          static_cast<float>((sum_class[j] / n - mean_v * mean_x) / std::sqrt(var_v * var_x));
    if (var_x > 0 && var_f > 0)
      out.firing_corr[j] =
          static_cast<float>((both / n - mean_f * mean_x) / std::sqrt(var_f * var_x));
    if (fired + c > 0) out.f1[j] = static_cast<float>(2 * both / (fired + c));
  }
  return out;
}

UnitSummary summarize(std::span<const float> values, const RowTable& table,
                      const SummaryOptions& options, std::uint64_t seed,
                      const StateStats* external) {
  UnitSummary s;
  std::vector<Entry> sorted;
  double sum = 0;
  s.min = std::numeric_limits<float>::infinity();
  s.max = -std::numeric_limits<float>::infinity();
  for (std::size_t r = 0; r < values.size(); ++r) {
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
  std::sort(sorted.begin(), sorted.end(), ascending);
  fill_histogram(sorted, options.bins, s);
  const std::size_t first_active = sorted.size() - s.active;
  pick_examples(sorted, first_active, table, options, seed, s);
  if (external) {
    s.top_states = top_states(*external, options.top_states);
  } else {
    s.top_states = top_states(state_stats(values, table), options.top_states);
    for (StateScore& t : s.top_states) t.auroc = rank_auroc(sorted, table, t.column);
  }
  return s;
}

}  // namespace othrun::dashboard
