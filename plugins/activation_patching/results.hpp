// The activation_patching product: pairs, baselines, the patched metric per cell, the normalised
// scores and the heatmaps (layout in docs/interventions.md, "activation_patching").
#pragma once

#include "pairs.hpp"
#include "sweep.hpp"

#include <othrun/contract.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::patching {

struct ResultInfo {
  MetricKind metric = MetricKind::LogitDiff;
  std::vector<std::string> kinds;  // in the order asked for: the order of the figures
  std::vector<std::int64_t> layers;
  std::int64_t n_heads = 0;
};

// Normalised scores [layers, sites] of one kind from its patched values [pairs, layers, sites].
std::vector<double> normalised_scores(const std::vector<double>& patched,
                                      const std::vector<double>& clean,
                                      const std::vector<double>& corrupted);

// Writes pairs/, baseline/, every kind's patched and score datasets and the heatmaps.
void write_results(Group& root, const std::vector<GamePair>& pairs, const SweepResult& sweep,
                   const ResultInfo& info);

// The datasets write_results writes for these kinds (the product's contract).
DatasetDecls result_datasets(const std::vector<std::string>& kinds);

const char* to_string(MetricKind metric);

}  // namespace othrun::patching
