// The CUDA path's host side against the CPU path: weight processing in plain C++ against ATen's
// (framework/torch/process_weights.cpp), and the host forward built from the kernels' arithmetic
// (gpt_math.hpp, the same functions nvcc compiles into the kernels) against the float64 Python
// reference and the LibTorch forward, every hook, on the random small model of tests/inference.
#include <gtest/gtest.h>

#include <othrun/error.hpp>
#include <othrun/hooks.hpp>
#include <othrun/pth.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <cmath>

#include "../inference/reference.hpp"
#include "host_forward.hpp"
#include "host_model.hpp"
#include "layout.hpp"

namespace othrun::cuda_gpt {
namespace {

using test::reference;

#define SKIP_WITHOUT_TORCH(ref) \
  if (!(ref).skip_reason.empty()) GTEST_SKIP() << (ref).skip_reason

// Float32 forward against a float64 reference: the CPU path's own bound (tests/inference).
constexpr double kTolerance = 1e-5;

std::vector<std::int32_t> tokens_of(const test::ReferenceFiles& ref, int* batch, int* n_pos) {
  const HostTensor t = load_pth(ref / "tokens.pth").tensor("");
  *batch = static_cast<int>(t.shape()[0]);
  *n_pos = static_cast<int>(t.shape()[1]);
  return t.to_vector<std::int32_t>();
}

gpt::RunRequest everything(std::int64_t n_layers) {
  gpt::RunRequest request;
  for (const std::string& name : all_hook_names(n_layers)) request.hooks.insert(name);
  request.logits = gpt::LogitsOutput::LogProbs;
  return request;
}

gpt::LoadOptions with(const gpt::ProcessOptions& process) {
  gpt::LoadOptions options;
  options.process = process;
  return options;
}

// Host processing of `file` against HookedTransformer::process_weights (ATen, float32) for one
// set of steps. Both sum over d_model (<= 512) float32 products, ATen in float32, this code in
// double: they differ by the float32 sums' rounding, a few 1e-7 of the largest weight. A step
// folded along the wrong axis, forgotten or applied twice differs by order 1.
void expect_same_processing(const std::filesystem::path& file, const gpt::ProcessOptions& process,
                            const std::string& what) {
  const auto aten = gpt::HookedTransformer::from_file(file, with(process));
  const gpt::LoadedCheckpoint loaded = gpt::load_checkpoint(file);
  gpt::ModelConfig config = gpt::infer_config(loaded.tensors, file.string());
  WeightMap host = to_weight_map(loaded.tensors);
  process_weights(host, config, process);
  EXPECT_EQ(config.to_string(), aten.config().to_string()) << what;
  const auto expected = aten.state_dict();
  EXPECT_EQ(host.size(), expected.size()) << what;
  for (const NamedTensor& t : expected) {
    auto it = host.find(t.name);
    ASSERT_NE(it, host.end()) << what << ": " << t.name;
    const HostTensor got =
        HostTensor::from_values<float>(it->second.shape, std::span<const float>(it->second.values));
    std::string why;
    EXPECT_LT(test::relative_error(got, t.tensor, &why), 1e-6) << what << ": " << t.name << why;
  }
}

TEST(CudaHostWeights, ProcessingMatchesAtenStepByStep) {
  const auto& ref = reference("small", 4);
  SKIP_WITHOUT_TORCH(ref);
  const auto file = ref / "tl.pth";
  expect_same_processing(file, gpt::ProcessOptions::none(), "none");
  for (int step = 0; step < 4; ++step) {
    gpt::ProcessOptions one = gpt::ProcessOptions::none();
    (step == 0   ? one.fold_ln
     : step == 1 ? one.center_writing_weights
     : step == 2 ? one.center_unembed
                 : one.fold_value_biases) = true;
    expect_same_processing(file, one, "step " + std::to_string(step));
  }
  expect_same_processing(file, gpt::ProcessOptions{}, "all");
  expect_same_processing(ref / "lnpre.pth", gpt::ProcessOptions{}, "lnpre file");
}

TEST(CudaHostWeights, FullSizeProcessingMatchesAten) {
  const auto& ref = reference("full", 3);
  SKIP_WITHOUT_TORCH(ref);
  expect_same_processing(ref / "tl.pth", gpt::ProcessOptions{}, "full size, all steps");
}

TEST(CudaHostWeights, PackingPutsHeadsWhereTheForwardReadsThem) {
  const auto& ref = reference("small", 4);
  SKIP_WITHOUT_TORCH(ref);
  const gpt::LoadedCheckpoint loaded = gpt::load_checkpoint(ref / "tl.pth");
  const gpt::ModelConfig config = gpt::infer_config(loaded.tensors, "tl.pth");
  const WeightMap w = to_weight_map(loaded.tensors);
  const PackedModel m = pack(w, config);
  const std::int64_t H = config.n_heads, E = config.d_head, hd = H * E;
  // W_K[h=2][d=5][e=3] is column hd + 2*E + 3 of row 5; b_V[h=1][e=7] is entry 2*hd + E + 7.
  EXPECT_EQ(m.layers[1].W_qkv[5 * 3 * hd + hd + 2 * E + 3],
            w.at("blocks.1.attn.W_K").values[(2 * config.d_model + 5) * E + 3]);
  EXPECT_EQ(m.layers[0].b_qkv[2 * hd + E + 7], w.at("blocks.0.attn.b_V").values[E + 7]);
  EXPECT_EQ(m.layers[0].ln1_w.size(), static_cast<std::size_t>(config.d_model));
}

// Every hook of the host forward against the float64 reference.
void expect_matches_reference(const std::filesystem::path& model, const gpt::LoadOptions& options,
                              const std::filesystem::path& expected_file) {
  const auto& ref = reference("small", 4);
  int batch = 0, n_pos = 0;
  const auto tokens = tokens_of(ref, &batch, &n_pos);
  const HostModel host = load_host_model(model, options);
  const auto request = everything(host.packed.config.n_layers);
  const gpt::Cache cache = host_forward(host.packed, tokens, batch, n_pos, request);
  const auto expected = test::load_tensors(expected_file);
  EXPECT_EQ(cache.size(), request.hooks.size() + 1);
  for (const auto& [name, got] : cache) {
    auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << name;
    std::string why;
    EXPECT_LT(test::relative_error(test::to_transformer_lens_layout(name, got), it->second, &why),
              kTolerance)
        << name << why;
  }
}

TEST(CudaHostForward, EveryHookOfTheRawModelMatchesTheReference) {
  const auto& ref = reference("small", 4);
  SKIP_WITHOUT_TORCH(ref);
  expect_matches_reference(ref / "tl.pth", with(gpt::ProcessOptions::none()),
                           ref / "expected_raw.pth");
}

TEST(CudaHostForward, EveryHookOfTheProcessedModelMatchesTheReference) {
  const auto& ref = reference("small", 4);
  SKIP_WITHOUT_TORCH(ref);
  expect_matches_reference(ref / "tl.pth", gpt::LoadOptions{}, ref / "expected_processed.pth");
}

TEST(CudaHostForward, AgreesWithTheCpuPluginOnAPositionWindowAndLogits) {
  const auto& ref = reference("small", 4);
  SKIP_WITHOUT_TORCH(ref);
  int batch = 0, n_pos = 0;
  const auto tokens = tokens_of(ref, &batch, &n_pos);
  gpt::RunRequest request;
  request.hooks = {"blocks.0.mlp.hook_post", "blocks.1.attn.hook_attn_scores", "hook_pos_embed",
                   "blocks.1.attn.hook_k", "ln_final.hook_scale"};
  request.logits = gpt::LogitsOutput::Logits;
  request.pos_begin = 5;
  request.pos_end = 54;
  const HostModel host = load_host_model(ref / "tl.pth", gpt::LoadOptions{});
  const gpt::Cache got = host_forward(host.packed, tokens, batch, n_pos, request);
  const auto cpu = gpt::HookedTransformer::from_file(ref / "tl.pth", gpt::LoadOptions{});
  const gpt::Cache expected = cpu.run(load_pth(ref / "tokens.pth").tensor(""), request);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(got.at("blocks.1.attn.hook_attn_scores").shape(), (HostTensor::Shape{4, 49, 4, 59}));
  for (const auto& [name, tensor] : expected) {
    // Both within kTolerance of the float64 model (asserted above and in tests/inference), so
    // within 2 * kTolerance of each other; a wrong window or layout differs by order 1.
    std::string why;
    EXPECT_LT(
        test::relative_error(test::to_transformer_lens_layout(name, got.at(name)), tensor, &why),
        2 * kTolerance)
        << name << why;
  }
}

TEST(CudaHostForward, RefusesBadTokensAndUnknownHooks) {
  const auto& ref = reference("small", 4);
  SKIP_WITHOUT_TORCH(ref);
  const HostModel host = load_host_model(ref / "tl.pth", gpt::LoadOptions{});
  gpt::RunRequest request;
  request.hooks = {"blocks.7.hook_resid_pre"};
  EXPECT_THROW(
      {
        try {
          host_forward(host.packed, {1, 2, 3}, 1, 3, request);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(),
                       "unknown hook 'blocks.7.hook_resid_pre' for a model with 2 layers");
          throw;
        }
      },
      Error);
  request.hooks = {"blocks.0.hook_resid_pre"};
  EXPECT_THROW(
      {
        try {
          host_forward(host.packed, {1, 61, 3}, 1, 3, request);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "tokens must lie in 0..60, got 1..61");
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace othrun::cuda_gpt
