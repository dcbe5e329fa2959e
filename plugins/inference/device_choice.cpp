#include "device_choice.hpp"

#include <othrun/log.hpp>

#include <array>

#include "cuda_backend.hpp"

namespace othrun::inference {

void check_device(const std::string& device) {
  if (device != "cuda") return;
  const CudaAvailability& cuda = cuda_availability();
  if (!cuda.available) {
    throw ConfigError("device", "device: cuda cannot run here: " + cuda.reason +
                                    "; use device: cpu, or auto (CPU when no GPU is usable)");
  }
}

Device choose_device(const std::string& device) {
  if (device == "cpu") return Device::Cpu;
  if (device == "cuda") return Device::Cuda;
  const CudaAvailability& cuda = cuda_availability();
  if (!cuda.available) {
    log::info("inference: device auto -> cpu ({})", cuda.reason);
    return Device::Cpu;
  }
  log::info("inference: device auto -> cuda ({})", cuda.device_name);
  return Device::Cuda;
}

Availability cuda_note() {
  const CudaAvailability& cuda = cuda_availability();
  return {true, cuda.available ? "device cuda: " + cuda.device_name
                               : "device cuda unavailable: " + cuda.reason};
}

void run_on_cuda_backend(const Options& options, RunContext& ctx) {
  const CudaAvailability& cuda = cuda_availability();
  if (!cuda.available) throw Error("inference: device cuda: " + cuda.reason);
  std::array<char, 256> key{};
  std::array<char, 4096> message{};
  const int result = cuda.backend->run_step(&options, &ctx, key.data(), key.size(), message.data(),
                                            message.size());
  if (result == OTHRUN_CUDA_CONFIG_ERROR) throw ConfigError(key.data(), message.data());
  if (result != OTHRUN_CUDA_OK) throw Error(message.data());
}

}  // namespace othrun::inference
