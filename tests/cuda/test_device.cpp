// The CUDA backend on a device, and what a machine without one says. Without a usable GPU (this CI)
// the GPU comparisons skip with the runtime's reason and the unavailable paths are asserted:
// `othrun --list` and --describe, `device: cuda` refused at validation, `device: auto` running on
// the CPU, each with the reason the inference plugin finds (no driver, or cudaGetDeviceCount's).
// With a GPU (scripts/gpu_check.sh) every hook of the full-size random model is compared with the
// CPU path.
#include <gtest/gtest.h>

#include <othrun/hooks.hpp>
#include <othrun/pth.hpp>
#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>

#include <fstream>

#include "../inference/reference.hpp"
#include "cuda_backend.hpp"
#include "device_status.hpp"
#include "layout.hpp"
#include "pipeline.hpp"

namespace othrun::cuda_gpt {
namespace {

// The bound against the CPU path: float32 with the same operations in other summation
// orders (cuBLAS vs OpenBLAS blocking) differs by ~1e-6 relative; a wrong index, mask or layout
// differs by order 1.
constexpr double kTolerance = 1e-5;

TEST(CudaDevice, UnavailableReasonNamesTheRuntimeError) {
  EXPECT_EQ(unavailable_reason(100, "cudaErrorNoDevice", "no CUDA-capable device is detected", 0),
            "cudaGetDeviceCount failed: no CUDA-capable device is detected (cudaErrorNoDevice)");
  EXPECT_EQ(unavailable_reason(0, "cudaSuccess", "no error", 0),
            "no CUDA device (cudaGetDeviceCount found 0)");
  EXPECT_EQ(unavailable_reason(0, "cudaSuccess", "no error", 2), "");
}

TEST(CudaDevice, StatusIsConsistent) {
  const DeviceStatus status = cuda_device_status();
  if (status.available) {
    EXPECT_GE(status.device_count, 1);
    EXPECT_TRUE(status.reason.empty());
  } else {
    EXPECT_EQ(status.device_count, 0);
    EXPECT_TRUE(status.reason.starts_with("cudaGetDeviceCount failed: ") ||
                status.reason.starts_with("no CUDA device"))
        << status.reason;
  }
}

test::CommandOutput run_othrun(const std::filesystem::path& dir, const std::string& yaml,
                               const std::string& flags = "") {
  std::ofstream(dir / "x.yaml") << yaml;
  return test::run_command(fmt::format("{} --plugin-path {} --threads 2 {} {}", OTHRUN_EXE,
                                       OTHRUN_PLUGIN_DIR, flags, (dir / "x.yaml").string()));
}

std::string experiment(const std::filesystem::path& model, const std::string& step) {
  return fmt::format(
      "name: cuda\nstore: out.h5\nseed: 3\nsteps:\n"
      "  - plugin: games\n    games: 5\n"
      "  - {}\n    label: cache\n    model: {}\n"
      "    hooks: [resid_pre.1, pattern.0]\n    logits: log_probs\n    batch_games: 2\n",
      step, model.string());
}

// What the inference plugin decides (no driver, or the backend's cudaGetDeviceCount).
#define SKIP_WITH_GPU(status)                                           \
  if ((status).available)                                               \
  GTEST_SKIP() << "a GPU is usable here: the unavailable paths do not " \
                  "apply"
#define SKIP_WITHOUT_GPU(status) \
  if (!(status).available) GTEST_SKIP() << "no usable GPU: " << (status).reason

TEST(CudaDevice, ListShowsTheCudaDeviceUnavailableWithTheReason) {
  const inference::CudaAvailability& status = inference::cuda_availability();
  SKIP_WITH_GPU(status);
  ASSERT_FALSE(status.reason.empty());
  const auto out =
      test::run_command(fmt::format("{} --plugin-path {} --list", OTHRUN_EXE, OTHRUN_PLUGIN_DIR));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const auto line = out.output.find("\ninference ");
  ASSERT_NE(line, std::string::npos) << out.output;
  const std::string rest = out.output.substr(line + 1, out.output.find('\n', line + 1) - line - 1);
  EXPECT_NE(rest.find("available (device cuda unavailable: " + status.reason + ")"),
            std::string::npos)
      << rest;
  const auto described = test::run_command(
      fmt::format("{} --plugin-path {} --describe inference", OTHRUN_EXE, OTHRUN_PLUGIN_DIR));
  EXPECT_NE(described.output.find("available: yes (device cuda unavailable: " + status.reason),
            std::string::npos)
      << described.output;
}

TEST(CudaDevice, DeviceCudaIsRefusedAtValidationWithTheReason) {
  const inference::CudaAvailability& status = inference::cuda_availability();
  SKIP_WITH_GPU(status);
  const auto& ref = test::reference("small", 2);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  test::ScratchDir dir;
  auto out = run_othrun(
      dir.path(), experiment(ref / "tl.pth", "plugin: inference\n    device: cuda"), "--check");
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.output.find("device: cuda cannot run here: " + status.reason), std::string::npos)
      << out.output;
}

TEST(CudaDevice, DeviceAutoRunsOnTheCpuWithoutAGpu) {
  const inference::CudaAvailability& status = inference::cuda_availability();
  SKIP_WITH_GPU(status);
  const auto& ref = test::reference("small", 2);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  test::ScratchDir dir;
  const auto out =
      run_othrun(dir.path(), experiment(ref / "tl.pth", "plugin: inference\n    device: auto"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("device auto -> cpu (" + status.reason + ")"), std::string::npos)
      << out.output;
  Store store(dir.path() / "out.h5");
  EXPECT_EQ(store.open("cache").root().attrs().get_string("device"), "cpu");
}

// ---- on a GPU (scripts/gpu_check.sh) ----

gpt::RunRequest everything(std::int64_t n_layers) {
  gpt::RunRequest request;
  for (const std::string& name : all_hook_names(n_layers)) request.hooks.insert(name);
  request.logits = gpt::LogitsOutput::LogProbs;
  return request;
}

TEST(CudaGpu, EveryHookOfTheFullSizeModelMatchesTheCpuPath) {
  const DeviceStatus status = cuda_device_status();
  SKIP_WITHOUT_GPU(status);
  const auto& ref = test::reference("full", 3);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  const HostTensor tokens = load_pth(ref / "tokens.pth").tensor("");
  const int batch = static_cast<int>(tokens.shape()[0]),
            n_pos = static_cast<int>(tokens.shape()[1]);
  const auto request = everything(8);
  const HostModel host = load_host_model(ref / "tl.pth", gpt::LoadOptions{});
  CudaPipeline pipeline(host.packed, request, batch, n_pos);
  const gpt::Cache got = pipeline.run_once(tokens.to_vector<std::int32_t>(), batch, n_pos, request);
  const auto cpu = gpt::HookedTransformer::from_file(ref / "tl.pth", gpt::LoadOptions{});
  const gpt::Cache expected = cpu.run(tokens, request);
  ASSERT_EQ(got.size(), expected.size());
  double worst = 0;
  std::string worst_name;
  for (const auto& [name, tensor] : expected) {
    std::string why;
    const double err =
        test::relative_error(test::to_transformer_lens_layout(name, got.at(name)), tensor, &why);
    EXPECT_LE(err, kTolerance) << name << why;
    if (err > worst) worst = err, worst_name = name;
  }
  std::printf(
      "gpu_check: %zu hooks + log_probs of the full-size model on %s: worst relative "
      "error %.3g (%s)\n",
      request.hooks.size(), status.name.c_str(), worst, worst_name.c_str());
}

TEST(CudaGpu, StreamedBatchesEqualOneForward) {
  const DeviceStatus status = cuda_device_status();
  SKIP_WITHOUT_GPU(status);
  const auto& ref = test::reference("small", 4);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  const HostTensor tokens = load_pth(ref / "tokens.pth").tensor("");
  const std::vector<std::int32_t> all = tokens.to_vector<std::int32_t>();
  const int n_pos = static_cast<int>(tokens.shape()[1]);
  gpt::RunRequest request;
  request.hooks = {"blocks.1.attn.hook_pattern", "blocks.0.hook_resid_post"};
  request.pos_begin = 3;
  const HostModel host = load_host_model(ref / "tl.pth", gpt::LoadOptions{});
  CudaPipeline pipeline(host.packed, request, 3, n_pos);  // batches of 3, 1: both slots used
  const gpt::Cache whole =
      CudaPipeline(host.packed, request, 4, n_pos).run_once(all, 4, n_pos, request);
  std::vector<std::uint64_t> firsts;
  pipeline.run(
      4,
      [&](std::uint64_t first, int count, std::int32_t* dst) {
        std::copy_n(all.begin() + static_cast<std::ptrdiff_t>(first) * n_pos, count * n_pos, dst);
      },
      [&](std::uint64_t first, int count, const gpt::Cache& hooks) {
        firsts.push_back(first);
        for (const auto& [name, t] : hooks) {
          const std::vector<float> got = t.to_vector<float>();
          const std::vector<float> expected = whole.at(name).to_vector<float>();
          const std::size_t per_game = expected.size() / 4;
          ASSERT_EQ(got.size(), per_game * static_cast<std::size_t>(count)) << name;
          for (std::size_t i = 0; i < got.size(); ++i) {
            // Other batch sizes may take other cuBLAS kernels: float32 rounding apart.
            ASSERT_NEAR(got[i], expected[first * per_game + i], 1e-5) << name << " " << i;
          }
        }
      });
  EXPECT_EQ(firsts, (std::vector<std::uint64_t>{0, 3}));
}

TEST(CudaGpu, DeviceCudaStoresWhatDeviceCpuStores) {
  const DeviceStatus status = cuda_device_status();
  SKIP_WITHOUT_GPU(status);
  const auto& ref = test::reference("small", 2);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  test::ScratchDir cpu_dir, gpu_dir;
  auto out =
      run_othrun(cpu_dir.path(), experiment(ref / "tl.pth", "plugin: inference\n    device: cpu"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  out =
      run_othrun(gpu_dir.path(), experiment(ref / "tl.pth", "plugin: inference\n    device: cuda"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  Store cpu_store(cpu_dir.path() / "out.h5"), gpu_store(gpu_dir.path() / "out.h5");
  const Product a = cpu_store.open("cache"), b = gpu_store.open("cache");
  EXPECT_TRUE(b.root().attrs().get_string("device").starts_with("cuda"));
  for (const char* name : {"blocks.1.hook_resid_pre", "blocks.0.attn.hook_pattern", "log_probs",
                           "logprob_board/log_probs"}) {
    const std::vector<float> x = a.root().dataset(name).read_all<float>();
    const std::vector<float> y = b.root().dataset(name).read_all<float>();
    ASSERT_EQ(x.size(), y.size()) << name;
    const auto shape = a.root().dataset(name).shape();
    HostTensor::Shape s(shape.begin(), shape.end());
    std::string why;
    EXPECT_LE(
        test::relative_error(HostTensor::from_values<float>(s, std::span<const float>(y)),
                             HostTensor::from_values<float>(s, std::span<const float>(x)), &why),
        2 * kTolerance)
        << name << why;
  }
}

}  // namespace
}  // namespace othrun::cuda_gpt
