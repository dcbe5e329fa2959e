// A product's key metrics: the numbers it stores as scalar attributes. Internal to libothrun_core.
#pragma once

#include <vector>

#include "report/report_model.hpp"

namespace othrun::report {

// Numeric scalar attributes of the product's root ("name", except othrun.* provenance) and of its
// top-level groups ("group/name", except figures/), in name order.
std::vector<Metric> read_metrics(const Group& root);

}  // namespace othrun::report
