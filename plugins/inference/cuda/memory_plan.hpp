// What the CUDA forward allocates for a batch, so that GPU memory is bounded by the batch: the
// weights, one workspace of activations (carved from a single allocation), and two sets of hook
// outputs (double buffering: one is copied to the host while the next batch computes into the
// other) on the device; two pinned host buffers of hooks and tokens.
#pragma once

#include <cstdint>

#include "hook_plan.hpp"

namespace othrun::cuda_gpt {

// Offsets (in floats) of the forward's buffers in the workspace allocation.
struct WorkspaceLayout {
  std::int64_t embed = 0, resid = 0, x = 0, scale = 0, qkv = 0, scores = 0, pattern = 0, z = 0,
               attn_out = 0, resid_mid = 0, pre = 0, post = 0, mlp_out = 0, logits = 0;
  std::int64_t total_floats = 0;
};
WorkspaceLayout workspace_layout(const Dims& dims);

// Floats of every weight the device holds (the packed model).
std::int64_t weight_floats(const gpt::ModelConfig& config);
// Floats one batch stores: every requested hook and logits over the kept positions.
std::int64_t hook_floats(const gpt::RunRequest& request, const Dims& dims);

struct MemoryPlan {
  int batch = 0, n_pos = 0;
  std::int64_t weight_bytes = 0;
  std::int64_t workspace_bytes = 0;  // activations of one batch + its tokens
  std::int64_t hook_bytes = 0;       // one batch's stored hooks (two such sets on the device)
  std::int64_t token_bytes = 0;      // one batch's int32 tokens
  std::int64_t device_bytes() const {
    return weight_bytes + workspace_bytes + 2 * hook_bytes + 2 * token_bytes;
  }
  std::int64_t pinned_bytes() const { return 2 * hook_bytes + 2 * token_bytes; }
};

MemoryPlan plan_memory(const gpt::ModelConfig& config, const gpt::RunRequest& request, int batch,
                       int n_pos);

// The largest batch <= `wanted` whose device_bytes() fit in `budget_bytes`. Throws othrun::Error
// saying how much one game needs when not even a batch of 1 fits.
int fit_batch(const gpt::ModelConfig& config, const gpt::RunRequest& request, int wanted, int n_pos,
              std::int64_t budget_bytes);

}  // namespace othrun::cuda_gpt
