// Where each hook of the forward is read from and how it is stored, shared by the CUDA forward and
// the host forward: the forward's buffers are contiguous row-major [batch, pos, ...] (attention
// scores and patterns [batch, head, query, key]) and a hook is gathered from its buffer into the
// store layout [batch, kept positions, ...] (attention maps [batch, query, head, key];
// docs/inference.md) with positions [pos_begin, pos_end).
#pragma once

#include <othrun/torch/hooked_transformer.hpp>  // RunRequest, ModelConfig (types only)

#include <cstdint>
#include <string>
#include <vector>

#include "gpt_math.hpp"

namespace othrun::cuda_gpt {

// The sizes of one forward call.
struct Dims {
  int batch = 0, n_pos = 0;  // the call's input [batch, n_pos]
  int d_model = 0, n_heads = 0, d_head = 0, d_mlp = 0, d_vocab = 0, d_vocab_out = 0;
  static Dims of(const gpt::ModelConfig& config, int batch, int n_pos);
  int hd() const { return n_heads * d_head; }
  std::int64_t rows() const { return static_cast<std::int64_t>(batch) * n_pos; }
};

// One hook: how to gather it and its stored trailing shape (after [batch, kept positions]).
struct HookLayout {
  math::Gather gather{};
  std::vector<std::int64_t> trailing;
  std::int64_t elements_per_position() const;  // H * K
};

// The layout of hook `name` (a full TransformerLens name, or "logits" / "log_probs") over its
// forward buffer. Throws othrun::Error on a name that is not a hook.
HookLayout hook_layout(const std::string& name, const Dims& dims);

// The kept positions [begin, end) of a call with n_pos positions.
struct PositionWindow {
  int begin = 0, end = 0;
  int kept() const { return end - begin; }
};
PositionWindow position_window(const gpt::RunRequest& request, int n_pos);

// Blocks the request needs: all for logits or ln_final hooks, else up to the deepest hook (as the
// CPU path's forward.cpp).
std::int64_t layers_needed(const gpt::RunRequest& request, const gpt::ModelConfig& config);

// Every name the request stores: its hooks and "logits" / "log_probs".
std::vector<std::string> stored_names(const gpt::RunRequest& request);

// Where one stored hook lies in a batch's block of hook outputs.
struct StoredHook {
  std::string name;
  HookLayout layout;
  std::int64_t offset = 0;  // floats from the block's start
  std::int64_t floats = 0;  // batch * kept positions * H * K
};

// The stored hooks of a batch of `dims.batch` games, packed one after another in
// stored_names(request) order.
std::vector<StoredHook> stored_hooks(const gpt::RunRequest& request, const Dims& dims);

// Throws othrun::Error for an unknown hook, tokens outside [0, d_vocab) or a shape other than
// [batch >= 1, 1 <= pos <= n_ctx], or a bad position range (the CPU path's messages).
void check_request(const gpt::RunRequest& request, const gpt::ModelConfig& config,
                   const std::vector<std::int32_t>& tokens, int batch, int n_pos);

}  // namespace othrun::cuda_gpt
