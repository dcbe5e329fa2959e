// The ranks of this othrun process (docs/scale.md): MPI's when mpirun or srun started it and the
// build has MPI (OTHRUN_MPI), else one process.
#pragma once

#include <memory>

#include "parallel/host_ranks.hpp"

namespace othrun {

// Initialises MPI when a launcher started this process; throws othrun::Error when one started
// several processes but this build has no MPI (each would run the whole experiment).
std::unique_ptr<HostRanks> start_ranks(int& argc, char**& argv);

}  // namespace othrun
