// C functions `othrun --system` finds with dlsym, so that libothrun_core can report LibTorch's
// version and thread pools without linking LibTorch.
#include <ATen/Parallel.h>
#include <torch/version.h>

#define OTHRUN_C_EXPORT extern "C" __attribute__((visibility("default")))

OTHRUN_C_EXPORT const char* othrun_torch_version() { return TORCH_VERSION; }
OTHRUN_C_EXPORT int othrun_torch_intra_op_threads() { return at::get_num_threads(); }
OTHRUN_C_EXPORT int othrun_torch_inter_op_threads() {
  return static_cast<int>(at::get_num_interop_threads());
}
