// `othrun --system`: what a bug report needs, one "name: value" line each (docs/benchmarks.md).
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "plugin/registry.hpp"
#include "runtime/blas.hpp"
#include "runtime/threads.hpp"

namespace othrun {

struct SystemInputs {
  int workers = 1;                                 // othrun's worker threads (--threads, resolved)
  blas::Selection blas;                            // the kernel decision taken at startup
  std::vector<threads::Setting> threads;           // the thread policy applied at startup
  std::vector<std::filesystem::path> search_path;  // where plugins were looked for
  std::vector<ListedPlugin> plugins;               // every library on the search path, loaded
};

// Prints the report. Loads OpenBLAS into this process when no plugin did (its kernel is then the
// one a run would get: the same environment). Queries LibTorch only through libothrun_torch's C
// functions, when a plugin loaded it.
void print_system(const SystemInputs& inputs, std::ostream& out);

}  // namespace othrun
