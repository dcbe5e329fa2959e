// The CUDA forward's plain C++ parts that need no GPU: the per-element functions the kernels use
// (gpt_math.hpp) at known values, the hook gathers and their store layout, the memory plan.
#include <gtest/gtest.h>

#include <othrun/error.hpp>

#include <cmath>
#include <limits>

#include "gpt_math.hpp"
#include "hook_plan.hpp"
#include "launch_shape.hpp"
#include "memory_plan.hpp"

namespace othrun::cuda_gpt {
namespace {

gpt::ModelConfig full_size() {
  gpt::ModelConfig c;  // the defaults are Othello-GPT's: 8 layers, 512, 8 heads, 2048, 61, 59
  c.normalization = gpt::Normalization::LNPre;
  return c;
}

TEST(CudaMath, GeluMatchesItsDefinitionInDouble) {
  for (double x : {-4.0, -1.5, -0.3, 0.0, 0.7, 2.0, 5.0}) {
    const double erf_form = 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    const double tanh_form =
        0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    // float32 evaluation: a few ulps of the result (|gelu| <= 5 here, ulp 4.8e-7).
    EXPECT_NEAR(math::gelu_erf(static_cast<float>(x)), erf_form, 2e-6) << x;
    EXPECT_NEAR(math::gelu_tanh(static_cast<float>(x)), tanh_form, 2e-6) << x;
  }
}

TEST(CudaMath, MaskedSoftmaxGivesExactZerosAfterTheQuery) {
  const float dots[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  float scores[4];
  for (int k = 0; k < 4; ++k) scores[k] = math::masked_score(dots[k], 2.0f, /*q=*/1, k);
  EXPECT_EQ(scores[0], 0.5f);
  EXPECT_EQ(scores[1], 1.0f);
  EXPECT_EQ(scores[2], -std::numeric_limits<float>::infinity());
  const float row_max = math::row_partial_max(scores, 4, 0, 1);
  float sum = 0;
  for (float s : scores) sum += math::exp_shifted(s, row_max);
  EXPECT_EQ(math::softmax_weight(scores[3], row_max, sum), 0.0f);
  EXPECT_NEAR(math::softmax_weight(scores[1], row_max, sum), 1 / (1 + std::exp(-0.5)), 1e-7);
  EXPECT_NEAR(math::log_softmax_value(scores[0], row_max, sum), std::log(1 / (1 + std::exp(0.5))),
              1e-6);
}

TEST(CudaMath, LayerNormPartsSplitOverLanesAsOverOne) {
  const float x[5] = {1, 2, 3, 4, 10};
  // Two lanes take {1, 3, 10} and {2, 4}: the warp reduction's partial sums.
  EXPECT_EQ(math::row_partial_sum(x, 5, 0, 2) + math::row_partial_sum(x, 5, 1, 2), 20.0f);
  const float mean = 4.0f;
  const float ss = math::row_partial_sum_sq_centered(x, 5, mean, 0, 1);
  EXPECT_EQ(ss, 9 + 4 + 1 + 0 + 36);
  const float scale = math::ln_scale(ss, 5, 1e-5f);
  EXPECT_NEAR(scale, std::sqrt(50.0 / 5 + 1e-5), 1e-6);
  EXPECT_FLOAT_EQ(math::ln_normalize(10, mean, scale, nullptr, nullptr, 0), 6 / scale);
  const float w[1] = {2}, b[1] = {1};
  EXPECT_FLOAT_EQ(math::ln_normalize(10, mean, scale, w, b, 0), 12 / scale + 1);
}

TEST(CudaHookPlan, AttentionMapsAreGatheredQueryFirst) {
  const Dims d = Dims::of(full_size(), 2, 59);
  const HookLayout scores = hook_layout("blocks.3.attn.hook_attn_scores", d);
  EXPECT_EQ(scores.trailing, (std::vector<std::int64_t>{8, 59}));
  // Stored [b=1, q=10, h=3, k=4] comes from the buffer's [b=1, h=3, q=10, k=4].
  EXPECT_EQ(math::gather_source(scores.gather, 1, 10, 3, 4), ((1 * 8 + 3) * 59 + 10) * 59 + 4);
  EXPECT_EQ(math::gather_destination(scores.gather, 59, 1, 10, 3, 4),
            ((1 * 59 + 10) * 8 + 3) * 59 + 4);
  // hook_v: the third block of columns of qkv [b, pos, 3 * 512], head 5, element 6.
  const HookLayout v = hook_layout("blocks.0.attn.hook_v", d);
  EXPECT_EQ(math::gather_source(v.gather, 1, 2, 5, 6), (1 * 59 + 2) * 1536 + 1024 + 5 * 64 + 6);
  // hook_pos_embed broadcasts W_pos over the batch.
  const HookLayout pos = hook_layout("hook_pos_embed", d);
  EXPECT_EQ(math::gather_source(pos.gather, 1, 3, 0, 7), 3 * 512 + 7);
  EXPECT_EQ(hook_layout("ln_final.hook_scale", d).trailing, (std::vector<std::int64_t>{1}));
  EXPECT_THROW(hook_layout("blocks.0.hook_nothing", d), Error);
}

TEST(CudaHookPlan, StoredHooksArePackedInNameOrderWithTheWindow) {
  gpt::RunRequest request;
  request.hooks = {"blocks.6.hook_resid_pre", "blocks.0.mlp.hook_post"};
  request.logits = gpt::LogitsOutput::LogProbs;
  request.pos_begin = 5;
  request.pos_end = 54;
  const Dims d = Dims::of(full_size(), 3, 59);
  const auto hooks = stored_hooks(request, d);
  ASSERT_EQ(hooks.size(), 3u);
  EXPECT_EQ(hooks[0].name, "blocks.0.mlp.hook_post");
  EXPECT_EQ(hooks[0].floats, 3 * 49 * 2048);
  EXPECT_EQ(hooks[1].name, "blocks.6.hook_resid_pre");
  EXPECT_EQ(hooks[1].offset, 3 * 49 * 2048);
  EXPECT_EQ(hooks[2].name, "log_probs");
  EXPECT_EQ(hooks[2].offset + hooks[2].floats, 3 * 49 * (2048 + 512 + 61));
  EXPECT_EQ(layers_needed(request, full_size()), 8);  // log-probs need every layer
  request.logits = gpt::LogitsOutput::None;
  EXPECT_EQ(layers_needed(request, full_size()), 6);  // resid_pre.6 is block 5's output
}

TEST(CudaMemoryPlan, CountsEveryBufferOfABatch) {
  gpt::RunRequest request;
  request.hooks = {"blocks.6.hook_resid_pre"};
  const MemoryPlan plan = plan_memory(full_size(), request, 100, 59);
  // 25,165,824 parameters + embeddings and unembedding of the LNPre model, float32.
  EXPECT_EQ(plan.weight_bytes, 4 * weight_floats(full_size()));
  EXPECT_EQ(weight_floats(full_size()),
            61 * 512 + 59 * 512 +
                8 * (512 * 1536 + 1536 + 512 * 512 + 512 + 2 * 512 * 2048 + 2048 + 512) + 512 * 61 +
                61);
  EXPECT_EQ(plan.hook_bytes, 4 * 100 * 59 * 512);
  EXPECT_EQ(plan.token_bytes, 4 * 100 * 59);
  // Workspace: 6 [rows, 512] buffers, scale, qkv, z, pre, post, logits, two attention maps.
  const std::int64_t rows = 100 * 59;
  const std::int64_t floats = 6 * rows * 512 + rows + rows * 1536 + rows * 512 + 2 * rows * 2048 +
                              rows * 61 + 2 * 100 * 8 * 59 * 59;
  EXPECT_GE(plan.workspace_bytes, 4 * floats);
  EXPECT_LT(plan.workspace_bytes, 4 * (floats + 14 * 64));  // at most 63 floats of padding each
  EXPECT_EQ(plan.device_bytes(),
            plan.weight_bytes + plan.workspace_bytes + 2 * plan.hook_bytes + 2 * plan.token_bytes);
}

TEST(CudaMemoryPlan, FitBatchStaysWithinTheBudget) {
  gpt::RunRequest request;
  request.hooks = {"blocks.6.hook_resid_pre"};
  const gpt::ModelConfig c = full_size();
  const std::int64_t budget = plan_memory(c, request, 37, 59).device_bytes();
  EXPECT_EQ(fit_batch(c, request, 100, 59, budget), 37);
  EXPECT_EQ(fit_batch(c, request, 20, 59, budget), 20);  // never more than asked
  EXPECT_EQ(fit_batch(c, request, 100, 59, budget - 1), 36);
  const std::int64_t too_small = plan_memory(c, request, 1, 59).device_bytes() - 1;
  try {
    fit_batch(c, request, 100, 59, too_small);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the model and one game need"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace othrun::cuda_gpt

namespace othrun::cuda_gpt {
namespace {

TEST(CudaLaunchShape, CoversEveryElementAndRowOnce) {
  // mlp.hook_pre of a batch of 500 games: 500 * 59 rows of 2048.
  const std::int64_t n = 500LL * 59 * 2048;
  const LaunchShape e = elementwise_launch(n);
  EXPECT_EQ(e.threads, 256u);
  EXPECT_EQ(e.blocks, 236000u);  // exactly n / 256
  EXPECT_EQ(elementwise_launch(n + 1).blocks, 236001u);
  const LaunchShape w = warp_per_row_launch(500 * 59);  // 8 warps a block
  EXPECT_EQ(w.blocks, (500u * 59 + 7) / 8);
  EXPECT_GE(static_cast<std::int64_t>(w.blocks) * kWarpsPerBlock, 500 * 59);
  EXPECT_EQ(elementwise_launch(0).blocks, 0u);
  EXPECT_THROW(elementwise_launch(std::int64_t{1} << 40), std::length_error);
}

}  // namespace
}  // namespace othrun::cuda_gpt
