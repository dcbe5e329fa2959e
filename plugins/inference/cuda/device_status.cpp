#include "device_status.hpp"

#include <cuda_runtime.h>

namespace othrun::cuda_gpt {

std::string unavailable_reason(int error, const std::string& error_name,
                               const std::string& error_text, int count) {
  if (error != 0) return "cudaGetDeviceCount failed: " + error_text + " (" + error_name + ")";
  if (count == 0) return "no CUDA device (cudaGetDeviceCount found 0)";
  return "";
}

DeviceStatus cuda_device_status() {
  DeviceStatus status;
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  status.device_count = error == cudaSuccess ? count : 0;
  status.reason = unavailable_reason(static_cast<int>(error), cudaGetErrorName(error),
                                     cudaGetErrorString(error), status.device_count);
  status.available = status.reason.empty();
  if (status.available) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, 0) == cudaSuccess) status.name = props.name;
  }
  return status;
}

}  // namespace othrun::cuda_gpt
