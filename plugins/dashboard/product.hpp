// The dashboard's numbers as datasets of its product (docs/dashboards.md, "Store layout"), so
// h5py reads what the pages show.
#pragma once

#include "directions.hpp"
#include "pages.hpp"

#include <othrun/store.hpp>

#include <vector>

namespace othrun::dashboard {

// units/*, histogram/*, groups/bounds, examples/*, states/*, and direct_effect and cosine/* when
// given ([units, 64] each).
void write_product_datasets(Group& root, const std::vector<UnitView>& views,
                            const SummaryOptions& options, const std::vector<float>* effect,
                            const ProbeCosines* cos);

}  // namespace othrun::dashboard
