// The inference plugin's CUDA backend stays out of CPU-only runs: the plugin does not link the
// CUDA libraries (its DT_NEEDED), the driver check needs no CUDA library, and the backend, when
// built, loads through the C ABI and answers for the device.
#include <gtest/gtest.h>

#include <othrun/error.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <stdlib.h>

#include "cuda_backend.hpp"
#include "plugin/elf_check.hpp"

namespace othrun::inference {
namespace {

// A fresh folder under the temporary directory, removed with everything in it.
class TempRoot {
 public:
  TempRoot() {
    std::string name = (std::filesystem::temp_directory_path() / "othrun_driver_XXXXXX").string();
    if (mkdtemp(name.data()) == nullptr) throw Error("mkdtemp failed for " + name);
    path_ = name;
  }
  ~TempRoot() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

bool is_cuda_library(const std::string& name) {
  return name.starts_with("libcudart") || name.starts_with("libcublas") ||
         name.starts_with("libcuda.");
}

TEST(CudaBackend, InferencePluginDoesNotLinkTheCudaLibraries) {
  const ElfDynamic plugin = elf_dynamic(INFERENCE_PLUGIN);
  // The reading itself: the plugin does link libothrun_torch (the CPU forward).
  EXPECT_TRUE(std::ranges::any_of(plugin.needed, [](const auto& n) {
    return n.starts_with("libothrun_torch");
  })) << "DT_NEEDED not read";
  for (const std::string& name : plugin.needed) EXPECT_FALSE(is_cuda_library(name)) << name;
}

#ifdef CUDA_BACKEND
TEST(CudaBackend, TheBackendLinksThemAndThePluginFindsIt) {
  const ElfDynamic backend = elf_dynamic(CUDA_BACKEND);
  EXPECT_TRUE(std::ranges::any_of(backend.needed,
                                  [](const auto& n) { return n.starts_with("libcudart"); }));
  EXPECT_TRUE(std::ranges::any_of(backend.needed,
                                  [](const auto& n) { return n.starts_with("libcublas"); }));
  // dlopen finds the backend through the plugin's RUNPATH (build tree: the backend's folder).
  const std::string dir = std::filesystem::path(CUDA_BACKEND).parent_path().string();
  const std::string runpath = elf_dynamic(INFERENCE_PLUGIN).runpath;
  EXPECT_NE((":" + runpath + ":").find(":" + dir + ":"), std::string::npos) << runpath;
}

TEST(CudaBackend, LoadsAndAnswersForTheDevice) {
  const auto library = CudaBackendLibrary::open();  // this test's RUNPATH has the folder too
  const OthrunCudaBackend& backend = library->functions();
  EXPECT_EQ(backend.abi_version, OTHRUN_CUDA_BACKEND_ABI_VERSION);
  char text[8] = "x";  // too short for any reason: cut, NUL-terminated
  const int usable = backend.device_status(text, sizeof text);
  EXPECT_EQ(std::string(text).size(), usable == 1 ? std::string(text).size() : 7u) << text;
  char full[1024];
  if (backend.device_status(full, sizeof full) == 0) {
    const std::string reason = full;
    EXPECT_TRUE(reason.starts_with("cudaGetDeviceCount failed: ") ||
                reason.starts_with("no CUDA device"))
        << reason;
  }
}
#endif

TEST(CudaBackend, DriverCheckLooksForTheDriverFiles) {
  TempRoot root;
  const auto missing = missing_nvidia_driver(root.path());
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(*missing, "no NVIDIA driver (neither " +
                          (root.path() / "proc/driver/nvidia/version").string() + " nor " +
                          (root.path() / "dev/nvidiactl").string() + " exists)");
  std::filesystem::create_directories(root.path() / "dev");
  std::ofstream(root.path() / "dev/nvidiactl") << "";
  EXPECT_FALSE(missing_nvidia_driver(root.path()).has_value());
  std::filesystem::remove(root.path() / "dev/nvidiactl");
  std::filesystem::create_directories(root.path() / "proc/driver/nvidia");
  std::ofstream(root.path() / "proc/driver/nvidia/version") << "NVRM version: 1\n";
  EXPECT_FALSE(missing_nvidia_driver(root.path()).has_value());
}

bool maps_have_cuda() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find("libcudart") != std::string::npos ||
         text.str().find("libcublas") != std::string::npos;
}

// In a fresh process (a death test): without a driver the decision loads no CUDA library, and
// names the first reason that applies (a build without the backend says so before the driver).
TEST(CudaBackend, WithoutADriverNoCudaLibraryIsLoaded) {
  if (!missing_nvidia_driver()) GTEST_SKIP() << "an NVIDIA driver is installed here";
#ifdef CUDA_BACKEND
  const std::string expected = *missing_nvidia_driver();
#else
  const std::string expected =
      "this build has no CUDA backend (no CUDA compiler was found when it was configured)";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const CudaAvailability& cuda = cuda_availability();
        const bool right = !cuda.available && cuda.reason == expected && cuda.backend == nullptr &&
                           !maps_have_cuda();
        if (!right) std::fprintf(stderr, "reason: %s\n", cuda.reason.c_str());
        std::exit(right ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace othrun::inference
