// The patching metric of one pair, from the logits at its metric position (docs/interventions.md).
#pragma once

#include "pairs.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace othrun::patching {

// What the metric of one pair reads: the output tokens it weighs.
struct PairMetric {
  MetricKind kind = MetricKind::LogitDiff;
  int plus_token = -1, minus_token = -1;  // logit_diff
  std::vector<int> legal_tokens;          // legal_logprob: the clean game's valid moves
};

PairMetric pair_metric(const GamePair& pair, MetricKind kind);

// logit_diff: logits[plus] - logits[minus]. legal_logprob: the mean over legal tokens of
// log_softmax(logits) (over all d_vocab_out outputs). Computed in double from `logits`.
double metric_value(const PairMetric& metric, std::span<const float> logits);

// The normalised patching score of one cell: (mean patched - mean corrupted) / (mean clean - mean
// corrupted) over the pairs, so 0 = the corrupted run's metric, 1 = the clean run's. NaN when the
// clean and corrupted means are equal (no effect to restore).
double normalised_score(double mean_patched, double mean_clean, double mean_corrupted);

}  // namespace othrun::patching
