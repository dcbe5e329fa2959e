#include "metric.hpp"

#include <othrun/othello.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace othrun::patching {

PairMetric pair_metric(const GamePair& pair, MetricKind kind) {
  PairMetric m;
  m.kind = kind;
  if (kind == MetricKind::LogitDiff) {
    m.plus_token = othello::square_to_token(pair.plus_square);
    m.minus_token = othello::square_to_token(pair.minus_square);
    return m;
  }
  for (othello::Bitboard b = pair.clean_valid; b != 0; b &= b - 1) {
    m.legal_tokens.push_back(othello::square_to_token(std::countr_zero(b)));
  }
  return m;
}

double metric_value(const PairMetric& m, std::span<const float> logits) {
  if (m.kind == MetricKind::LogitDiff) {
    return double{logits[static_cast<std::size_t>(m.plus_token)]} -
           double{logits[static_cast<std::size_t>(m.minus_token)]};
  }
  double top = -std::numeric_limits<double>::infinity();
  for (float v : logits) top = std::max(top, double{v});
  double sum = 0;
  for (float v : logits) sum += std::exp(double{v} - top);
  const double log_z = top + std::log(sum);
  double total = 0;
  for (int token : m.legal_tokens) total += double{logits[static_cast<std::size_t>(token)]} - log_z;
  return total / static_cast<double>(m.legal_tokens.size());
}

double normalised_score(double mean_patched, double mean_clean, double mean_corrupted) {
  const double range = mean_clean - mean_corrupted;
  if (range == 0) return std::nan("");
  return (mean_patched - mean_corrupted) / range;
}

}  // namespace othrun::patching
