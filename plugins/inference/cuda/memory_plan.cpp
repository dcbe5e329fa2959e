#include "memory_plan.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace othrun::cuda_gpt {

WorkspaceLayout workspace_layout(const Dims& d) {
  const std::int64_t rows = d.rows();
  const std::int64_t maps = static_cast<std::int64_t>(d.batch) * d.n_heads * d.n_pos * d.n_pos;
  WorkspaceLayout w;
  std::int64_t at = 0;
  // 64-float (256-byte) alignment for every buffer: cuBLAS and vector loads like it.
  auto take = [&at](std::int64_t floats) {
    const std::int64_t start = at;
    at += (floats + 63) / 64 * 64;
    return start;
  };
  w.embed = take(rows * d.d_model);
  w.resid = take(rows * d.d_model);
  w.x = take(rows * d.d_model);
  w.scale = take(rows);
  w.qkv = take(rows * 3 * d.hd());
  w.scores = take(maps);
  w.pattern = take(maps);
  w.z = take(rows * d.hd());
  w.attn_out = take(rows * d.d_model);
  w.resid_mid = take(rows * d.d_model);
  w.pre = take(rows * d.d_mlp);
  w.post = take(rows * d.d_mlp);
  w.mlp_out = take(rows * d.d_model);
  w.logits = take(rows * d.d_vocab_out);
  w.total_floats = at;
  return w;
}

std::int64_t weight_floats(const gpt::ModelConfig& c) {
  const std::int64_t D = c.d_model, hd = c.n_heads * c.d_head, M = c.d_mlp;
  const std::int64_t ln = c.normalization == gpt::Normalization::LN ? 2 * D : 0;
  const std::int64_t layer = 2 * ln + D * 3 * hd + 3 * hd + hd * D + D + D * M + M + M * D + D;
  return c.d_vocab * D + c.n_ctx * D + c.n_layers * layer + ln + D * c.d_vocab_out + c.d_vocab_out;
}

std::int64_t hook_floats(const gpt::RunRequest& request, const Dims& d) {
  std::int64_t total = 0;
  for (const StoredHook& hook : stored_hooks(request, d)) total += hook.floats;
  return total;
}

MemoryPlan plan_memory(const gpt::ModelConfig& config, const gpt::RunRequest& request, int batch,
                       int n_pos) {
  const Dims d = Dims::of(config, batch, n_pos);
  MemoryPlan plan;
  plan.batch = batch;
  plan.n_pos = n_pos;
  plan.weight_bytes = 4 * weight_floats(config);
  plan.workspace_bytes = 4 * workspace_layout(d).total_floats;
  plan.hook_bytes = 4 * hook_floats(request, d);
  plan.token_bytes = 4 * d.rows();
  return plan;
}

int fit_batch(const gpt::ModelConfig& config, const gpt::RunRequest& request, int wanted, int n_pos,
              std::int64_t budget_bytes) {
  const MemoryPlan one = plan_memory(config, request, 1, n_pos);
  if (one.device_bytes() > budget_bytes) {
    throw Error(fmt::format(
        "the GPU has {:.1f} MiB free for inference but the model and one game need {:.1f} MiB",
        budget_bytes / 1048576.0, one.device_bytes() / 1048576.0));
  }
  // device_bytes is affine in the batch up to the workspace's alignment padding (< 64 floats a
  // buffer): estimate from one game, then step to the exact largest batch that fits.
  const std::int64_t per_game = one.device_bytes() - one.weight_bytes;
  auto fits = [&](std::int64_t b) {
    return plan_memory(config, request, static_cast<int>(b), n_pos).device_bytes() <= budget_bytes;
  };
  std::int64_t batch =
      std::clamp<std::int64_t>((budget_bytes - one.weight_bytes) / per_game, 1, wanted);
  while (batch < wanted && fits(batch + 1)) ++batch;
  while (batch > 1 && !fits(batch)) --batch;
  return static_cast<int>(batch);
}

}  // namespace othrun::cuda_gpt
