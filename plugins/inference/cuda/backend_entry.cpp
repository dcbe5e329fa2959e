// libothrun_cuda_backend.so's one exported function (cuda_backend_abi.h): the device status and the
// step behind plain C functions, exceptions turned into an error code and text.
#include <othrun/error.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "cuda_backend_abi.h"
#include "cuda_step.hpp"
#include "device_status.hpp"

namespace {

void copy_text(const std::string& text, char* out, std::size_t size) {
  if (size == 0) return;
  std::snprintf(out, size, "%s", text.c_str());
}

int device_status(char* text, std::size_t size) {
  try {
    const othrun::cuda_gpt::DeviceStatus status = othrun::cuda_gpt::cuda_device_status();
    copy_text(status.available ? status.name : status.reason, text, size);
    return status.available ? 1 : 0;
  } catch (const std::exception& error) {  // std::bad_alloc; the CUDA calls do not throw
    copy_text(std::string("cannot ask the CUDA runtime: ") + error.what(), text, size);
    return 0;
  }
}

int run_step(const void* options, void* ctx, char* key, std::size_t key_size, char* message,
             std::size_t message_size) {
  copy_text("", key, key_size);
  copy_text("", message, message_size);
  try {
    othrun::inference::run_on_cuda(*static_cast<const othrun::inference::Options*>(options),
                                   *static_cast<othrun::RunContext*>(ctx));
    return OTHRUN_CUDA_OK;
  } catch (const othrun::ConfigError& error) {
    copy_text(error.key(), key, key_size);
    copy_text(error.what(), message, message_size);
    return OTHRUN_CUDA_CONFIG_ERROR;
  } catch (const std::exception& error) {
    copy_text(error.what(), message, message_size);
    return OTHRUN_CUDA_ERROR;
  }
}

constexpr OthrunCudaBackend kBackend{OTHRUN_CUDA_BACKEND_ABI_VERSION, &device_status, &run_step};

}  // namespace

extern "C" __attribute__((visibility("default"))) const OthrunCudaBackend* othrun_cuda_backend() {
  return &kBackend;
}
