// The forward of docs/inference.md on the host, built from the same per-element functions
// (gpt_math.hpp), buffers, packing and hook gathers (hook_plan.hpp) as the CUDA forward, with plain
// loops where the GPU calls cuBLAS. It is the CPU-side check of the kernels' arithmetic: the host
// tests compare it with the CPU plugin (LibTorch) and the float64 Python reference. Slow: tests
// only.
#pragma once

#include <cstdint>
#include <vector>

#include "host_model.hpp"

namespace othrun::cuda_gpt {

// Runs `tokens` (row-major [batch, n_pos]) and returns the requested hooks (and logits/log_probs)
// in the store layout: [batch, kept positions, ...], attention maps [batch, query, head, key].
gpt::Cache host_forward(const PackedModel& model, const std::vector<std::int32_t>& tokens,
                        int batch, int n_pos, const gpt::RunRequest& request);

}  // namespace othrun::cuda_gpt
