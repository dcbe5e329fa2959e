// A trainable TransformerLens HookedTransformer on ATen (docs/inference.md): parameters in the
// TransformerLens state-dict layout, a forward that autograd differentiates, and one optional
// splice point where a caller may replace an activation (e.g. by an SAE's reconstruction).
// Only libothrun_train and its tests include this header (it pulls in <ATen/ATen.h>).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>
#include <othrun/torch/model_config.hpp>

namespace othrun::train {

// Replaces the activation at the splice hook: gets the value the forward computed, returns the
// value it goes on with (same shape).
using Splice = std::function<at::Tensor(const at::Tensor&)>;

class Gpt {
 public:
  // Random initialisation: matrices N(0, init_std^2), biases 0, LayerNorm weights 1. Drawn from
  // SplitMix64(seed) in state-dict order, so it is the same whatever the thread count.
  Gpt(const gpt::ModelConfig& config, std::uint64_t seed, double init_std = 0.02);
  // Copies of a TransformerLens state dict matching `config` (checked; buffers ignored).
  Gpt(const gpt::ModelConfig& config, const std::vector<NamedTensor>& state,
      const std::string& source);

  const gpt::ModelConfig& config() const { return config_; }
  // Parameter names in state-dict order, and the tensors (float32, contiguous, leaves).
  const std::vector<std::string>& names() const { return names_; }
  at::Tensor& param(const std::string& name);
  const at::Tensor& param(const std::string& name) const;
  std::vector<at::Tensor> params() const;
  void set_requires_grad(bool requires_grad);
  // A Gpt whose parameters are new autograd leaves on this one's storage: it computes with the
  // current weights (also after in-place updates of this one) and gathers its own gradients.
  Gpt leaves_sharing_weights() const;

  // Logits [batch, pos, d_vocab_out] of int64 tokens [batch, pos]. When `splice_hook` names one of
  // blocks.L.{hook_resid_pre, hook_resid_mid, hook_resid_post, hook_attn_out, hook_mlp_out,
  // mlp.hook_pre, mlp.hook_post}, `splice` replaces that activation.
  at::Tensor forward(const at::Tensor& tokens, const std::string& splice_hook = {},
                     const Splice& splice = {}) const;

  // Contiguous float32 copies in TransformerLens names, ready for save_pth / make_state_dict.
  std::vector<NamedTensor> state_dict() const;

 private:
  at::Tensor block(const at::Tensor& resid, std::int64_t layer, const std::string& splice_hook,
                   const Splice& splice) const;
  at::Tensor attention(const at::Tensor& x, const std::string& prefix) const;
  at::Tensor layer_norm(const at::Tensor& x, const std::string& prefix) const;

  gpt::ModelConfig config_;
  std::vector<std::string> names_;
  std::map<std::string, at::Tensor> params_;
};

// Next-move cross-entropy of games `tokens` [batch, 60] (int64, 0 = padding): inputs
// tokens[:, :-1], targets tokens[:, 1:], padding targets ignored. Also returns the logits.
struct LossAndLogits {
  at::Tensor loss;
  at::Tensor logits;
};
LossAndLogits next_move_loss(const Gpt& model, const at::Tensor& tokens,
                             const std::string& splice_hook = {}, const Splice& splice = {});
// The same cross-entropy summed over the targets instead of averaged (a scalar tensor), and the
// number of targets it sums over: shards of a batch add up to the batch's sum.
at::Tensor next_move_loss_sum(const Gpt& model, const at::Tensor& tokens);
std::int64_t next_move_targets(const Gpt& model, const at::Tensor& tokens);

}  // namespace othrun::train
