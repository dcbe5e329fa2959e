// The CUDA side of device_choice.hpp in a build without the CUDA forward (no CUDA compiler found
// when CMake configured): `device: cuda` is refused with this reason and `auto` is the CPU.
#include <othrun/error.hpp>

#include "device_choice.hpp"

namespace othrun::inference {

std::optional<std::string> cuda_unavailable_reason() {
  return "this build has no CUDA forward (no CUDA compiler was found when it was configured)";
}

void run_on_cuda(const Options&, RunContext&) {
  throw Error("inference: " + *cuda_unavailable_reason());
}

}  // namespace othrun::inference
