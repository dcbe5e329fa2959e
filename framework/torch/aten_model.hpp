// Internal to libothrun_torch: the LibTorch side of HookedTransformer. Only the ATen TUs
// (hooked_transformer.cpp, process_weights.cpp, forward.cpp, edits.cpp) include it.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>
#include <othrun/torch/hooked_transformer.hpp>
#include <othrun/torch/model_config.hpp>

namespace othrun::gpt::detail {

// TransformerLens parameter name -> float32 tensor.
using WeightMap = std::map<std::string, at::Tensor>;

// TransformerLens' process_weights on `w` in place; `config` becomes LNPre after fold_ln.
void process_weights(WeightMap& w, ModelConfig& config, const ProcessOptions& options);

// The weights rearranged for the forward: Q, K, V fused into one matmul, heads flattened.
struct LayerParams {
  at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;  // undefined for LNPre
  at::Tensor W_qkv, b_qkv;                // [d_model, 3*H*d_head], [3*H*d_head]
  at::Tensor W_O, b_O;                    // [H*d_head, d_model], [d_model]
  at::Tensor W_in, b_in, W_out, b_out;
};
struct PackedModel {
  at::Tensor W_E, W_pos;
  std::vector<LayerParams> layers;
  at::Tensor lnf_w, lnf_b, W_U, b_U;
};

PackedModel pack(const WeightMap& w, const ModelConfig& config);

// A request's edits by the hooks they touch (edits.cpp). Checks every edit on construction;
// apply() checks what needs the activation's shape and throws othrun::Error naming the edit.
class Editor {
 public:
  Editor(const std::vector<Edit>& edits, const ModelConfig& config);
  bool touches(const std::string& hook) const;
  // `x` after the edits of `hook`, in order (x itself when none; never modified in place).
  at::Tensor apply(const std::string& hook, const at::Tensor& x) const;

 private:
  struct Entry {
    const Edit* edit;
    std::string where;  // "edit 2 (add at blocks.3.hook_resid_post)" for errors
  };
  at::Tensor apply_one(const Edit& e, const std::string& where, const std::string& hook,
                       const at::Tensor& x) const;
  std::map<std::string, std::vector<Entry>> by_hook_;
};

// The forward of docs/inference.md ("The model") on int64 `tokens` [batch, pos].
Cache forward(const PackedModel& m, const ModelConfig& config, const at::Tensor& tokens,
              const RunRequest& request);

}  // namespace othrun::gpt::detail
