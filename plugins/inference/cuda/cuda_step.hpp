// The inference step on device 0 of a CUDA GPU: what the backend's run_step runs
// (backend_entry.cpp). The counterpart of the CPU path in inference.cpp, writing the same
// datasets and attributes.
#pragma once

#include <othrun/plugin.hpp>

#include "options.hpp"

namespace othrun::inference {

// Throws Error (or ConfigError for a bad board_game) like the CPU path.
void run_on_cuda(const Options& options, RunContext& ctx);

}  // namespace othrun::inference
