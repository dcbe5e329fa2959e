// Which steps of an experiment read what earlier steps write, so that a failing step stops only
// the steps that depend on it.
#pragma once

#include <cstddef>
#include <vector>

#include "config/experiment.hpp"

namespace othrun {

// For each step, the indices of the earlier steps it reads directly: through an input parameter
// naming the step's label, or through a file: an existing-path parameter equal to (or inside, or
// the folder of) a path an earlier step writes (its path parameters that are not reads).
std::vector<std::vector<std::size_t>> step_dependencies(const Experiment& experiment);

}  // namespace othrun
