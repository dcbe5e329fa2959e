// Whether this machine can run the CUDA forward, and why not: what `othrun --list` shows for
// cuda_inference and what `device: cuda` is refused with.
#pragma once

#include <string>

namespace othrun::cuda_gpt {

struct DeviceStatus {
  bool available = false;
  int device_count = 0;
  std::string reason;  // when unavailable: cudaGetDeviceCount's error, or "no CUDA device"
  std::string name;    // device 0's name when available
};

// Asks the CUDA runtime (cudaGetDeviceCount; device 0's properties). Never throws.
DeviceStatus cuda_device_status();

// The reason text for cudaGetDeviceCount's result: `error` 0 (cudaSuccess) with `count` 0 is
// "no CUDA device"; another error is "cudaGetDeviceCount failed: <text> (<name>)".
std::string unavailable_reason(int error, const std::string& error_name,
                               const std::string& error_text, int count);

}  // namespace othrun::cuda_gpt
