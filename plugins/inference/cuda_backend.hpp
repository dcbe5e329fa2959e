// Whether the CUDA backend (libothrun_cuda_backend.so, cuda_backend_abi.h) can run here, finding
// out as cheaply as possible: a build without it says so; a machine without an NVIDIA driver is
// seen from two files, without loading any CUDA library; only then is the backend loaded (dlopen)
// and asked for cudaGetDeviceCount. A CPU-only run thus never maps libcudart or cuBLAS.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cuda_backend_abi.h"

namespace othrun::inference {

// The loaded backend library; dlclose on destruction.
class CudaBackendLibrary {
 public:
  // dlopen of OTHRUN_CUDA_BACKEND_FILE, found through the RUNPATH of the library that calls this
  // (the inference plugin's names the backend's folder). Throws Error with dlerror()'s text, or
  // when the backend is of another ABI version.
  static std::unique_ptr<CudaBackendLibrary> open();
  ~CudaBackendLibrary();
  CudaBackendLibrary(const CudaBackendLibrary&) = delete;
  CudaBackendLibrary& operator=(const CudaBackendLibrary&) = delete;

  const OthrunCudaBackend& functions() const { return *functions_; }

 private:
  CudaBackendLibrary(void* handle, const OthrunCudaBackend* functions)
      : handle_(handle), functions_(functions) {}
  void* handle_;
  const OthrunCudaBackend* functions_;
};

// Why no NVIDIA driver is installed under `root` (neither proc/driver/nvidia/version nor
// dev/nvidiactl exists), or nullopt when one is.
std::optional<std::string> missing_nvidia_driver(const std::filesystem::path& root = "/");

struct CudaAvailability {
  bool available = false;
  std::string reason;       // when unavailable: not built, no driver, the load's or the runtime's
  std::string device_name;  // when available: device 0
  const OthrunCudaBackend* backend = nullptr;  // when available
};

// Decided once per process (the first call loads the backend when a driver exists) and then kept,
// with the backend loaded, until the process ends.
const CudaAvailability& cuda_availability();

}  // namespace othrun::inference
