#include "runtime/threads.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace othrun::threads {

int resolve(int requested) {
  return requested > 0 ? requested
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::vector<Setting> apply_policy(int threads) {
  const std::string n = std::to_string(resolve(threads));
  // PASSIVE: an OpenMP worker that finished its share sleeps at once; spinning (libgomp's
  // default) kept it on a core that OpenBLAS's threads needed for the next matrix product.
  const std::pair<const char*, std::string> wanted[] = {
      {"OMP_NUM_THREADS", n}, {"OPENBLAS_NUM_THREADS", n}, {"OMP_WAIT_POLICY", "PASSIVE"}};
  std::vector<Setting> settings;
  for (const auto& [name, value] : wanted) {
    if (const char* user = std::getenv(name)) {
      settings.push_back({name, user, true});
    } else {
      ::setenv(name, value.c_str(), 1);
      settings.push_back({name, value, false});
    }
  }
  return settings;
}

}  // namespace othrun::threads
