#include "cuda_backend.hpp"

#include <othrun/error.hpp>

#include <dlfcn.h>

#include <array>

namespace othrun::inference {

std::unique_ptr<CudaBackendLibrary> CudaBackendLibrary::open() {
  // RTLD_NODELETE: the CUDA runtime keeps threads and exit handlers of its own; unloading it
  // before the process ends is not something it supports.
  void* handle = dlopen(OTHRUN_CUDA_BACKEND_FILE, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Error(std::string("cannot load the CUDA backend: ") + (why ? why : "dlopen failed"));
  }
  auto library = std::unique_ptr<CudaBackendLibrary>(new CudaBackendLibrary(handle, nullptr));
  using Entry = const OthrunCudaBackend* (*)();
  const auto entry = reinterpret_cast<Entry>(dlsym(handle, OTHRUN_CUDA_BACKEND_ENTRY));
  if (entry == nullptr) {
    throw Error(std::string("the CUDA backend ") + OTHRUN_CUDA_BACKEND_FILE + " has no " +
                OTHRUN_CUDA_BACKEND_ENTRY + "()");
  }
  const OthrunCudaBackend* functions = entry();
  if (functions == nullptr || functions->abi_version != OTHRUN_CUDA_BACKEND_ABI_VERSION) {
    throw Error(std::string("the CUDA backend ") + OTHRUN_CUDA_BACKEND_FILE + " is of ABI " +
                (functions ? std::to_string(functions->abi_version) : "?") + ", this plugin of " +
                std::to_string(OTHRUN_CUDA_BACKEND_ABI_VERSION) +
                " (install the plugin and its backend from the same build)");
  }
  library->functions_ = functions;
  return library;
}

CudaBackendLibrary::~CudaBackendLibrary() { dlclose(handle_); }

std::optional<std::string> missing_nvidia_driver(const std::filesystem::path& root) {
  std::error_code ec;
  for (const char* file : {"proc/driver/nvidia/version", "dev/nvidiactl"}) {
    if (std::filesystem::exists(root / file, ec)) return std::nullopt;
  }
  return "no NVIDIA driver (neither " + (root / "proc/driver/nvidia/version").string() + " nor " +
         (root / "dev/nvidiactl").string() + " exists)";
}

namespace {

// Set by CMake: whether libothrun_cuda_backend.so was built beside this plugin.
constexpr bool kBackendBuilt = OTHRUN_HAVE_CUDA_BACKEND;

struct Loaded {
  CudaAvailability availability;
  std::unique_ptr<CudaBackendLibrary> library;  // keeps availability.backend valid
};

Loaded find_out() {
  Loaded out;
  CudaAvailability& a = out.availability;
  if (!kBackendBuilt) {
    a.reason = "this build has no CUDA backend (no CUDA compiler was found when it was configured)";
    return out;
  }
  if (const auto why = missing_nvidia_driver()) {
    a.reason = *why;
    return out;
  }
  try {
    out.library = CudaBackendLibrary::open();
  } catch (const Error& error) {
    a.reason = error.what();
    return out;
  }
  std::array<char, 1024> text{};
  a.available = out.library->functions().device_status(text.data(), text.size()) == 1;
  (a.available ? a.device_name : a.reason) = text.data();
  if (a.available) a.backend = &out.library->functions();
  return out;
}

}  // namespace

const CudaAvailability& cuda_availability() {
  static const Loaded loaded = find_out();
  return loaded.availability;
}

}  // namespace othrun::inference
