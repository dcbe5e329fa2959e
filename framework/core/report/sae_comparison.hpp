// The SAEs of a store side by side: one row per sae_encode product. Internal to libothrun_core.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/report_model.hpp"

namespace othrun::report {

// One SAE as its sae_encode step stored it (metrics/ attributes, docs/analyses.md).
struct SaeSummary {
  std::string label, status, hook;
  std::string positions;  // metrics/positions: the positions the metrics cover ("" before 1.1)
  double d_sae = 0, rows = 0, mse = 0, explained_variance = 0, l0 = 0, dead_features = 0;
  std::optional<double> loss_clean, loss_spliced;  // metrics/loss_*: absent unless stored
  std::optional<double> loss_games;                // metrics/loss_games: games the loss ran on
};

// Every readable sae_encode product among `steps`, by hook, then width.
std::vector<SaeSummary> summarize_saes(const Store& store, const std::vector<StepReport>& steps);

// The comparison figure: MSE, explained variance, L0 and dead features against the width, one
// line per hook.
Figure sae_comparison_figure(const std::vector<SaeSummary>& saes);

}  // namespace othrun::report
