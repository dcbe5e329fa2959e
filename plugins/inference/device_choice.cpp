#include "device_choice.hpp"

#include <othrun/log.hpp>

namespace othrun::inference {

void check_device(const std::string& device) {
  if (device != "cuda") return;
  if (const auto reason = cuda_unavailable_reason()) {
    throw ConfigError("device", "device: cuda cannot run here: " + *reason +
                                    "; use device: cpu, or auto (CPU when no GPU is usable)");
  }
}

Device choose_device(const std::string& device) {
  if (device == "cpu") return Device::Cpu;
  if (device == "cuda") return Device::Cuda;
  if (const auto reason = cuda_unavailable_reason()) {
    log::info("inference: device auto -> cpu ({})", *reason);
    return Device::Cpu;
  }
  log::info("inference: device auto -> cuda");
  return Device::Cuda;
}

}  // namespace othrun::inference
