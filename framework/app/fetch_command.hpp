// `othrun fetch [--offline-check] REF...`: downloads hf:// and https:// references into the cache
// (docs/fetch.md) and prints the local file of each, one per line.
#pragma once

#include <string>
#include <vector>

namespace othrun {

// `args` are the arguments after "fetch". Returns the exit code: 0 every reference is cached now,
// 1 one could not be fetched, 2 a reference or option is malformed, 130 interrupted.
int run_fetch_command(const std::vector<std::string>& args);

}  // namespace othrun
