// Reading a sae_intervention product (docs/interventions.md) for the dashboards' "Ablation
// effects" section.
#pragma once

#include "pages.hpp"

#include <othrun/store.hpp>

#include <cstdint>
#include <map>

namespace othrun::dashboard {

// The effects of each feature `product` edited, by feature; fills meta's ablation_source and
// ablation_note. `features` is the sae_encode product the units come from (`units` features): a
// product that edited another SAE, or features outside 0..units-1, is refused (DataError).
std::map<std::int64_t, AblationView> read_ablations(const Product& product, const Product& features,
                                                    std::int64_t units, DashboardMeta& meta);

}  // namespace othrun::dashboard
