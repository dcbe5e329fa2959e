// TransformerLens' process_weights (HookedTransformer.from_pretrained's defaults), on ATen tensors.
// Each step mirrors the TransformerLens function of the same name; the order matters and is theirs.
#include <ATen/ATen.h>

#include <fmt/format.h>

#include "aten_model.hpp"

namespace othrun::gpt::detail {

namespace {

std::string key(std::int64_t layer, const char* name) {
  return fmt::format("blocks.{}.{}", layer, name);
}

// Folds LN weight w and bias b into a weight W [..., d_model, out] and its bias, then centres W
// over its d_model axis (what the LN's mean subtraction makes irrelevant).
void fold_into(at::Tensor& W, at::Tensor& bias, const at::Tensor& w, const at::Tensor& b) {
  // w, b broadcast along d_model: [d_model, 1] against [..., d_model, out].
  const at::Tensor w_col = w.unsqueeze(-1);
  const at::Tensor b_col = b.unsqueeze(-1);
  bias = bias + (W * b_col).sum(-2);
  W = W * w_col;
  W = W - W.mean(-2, /*keepdim=*/true);
}

void fold_ln(WeightMap& w, ModelConfig& config) {
  if (config.normalization != Normalization::LN) return;  // LNPre: already folded
  for (std::int64_t l = 0; l < config.n_layers; ++l) {
    const at::Tensor ln1_w = w.at(key(l, "ln1.w")), ln1_b = w.at(key(l, "ln1.b"));
    for (const char* x : {"Q", "K", "V"}) {
      fold_into(w.at(key(l, fmt::format("attn.W_{}", x).c_str())),
                w.at(key(l, fmt::format("attn.b_{}", x).c_str())), ln1_w, ln1_b);
    }
    fold_into(w.at(key(l, "mlp.W_in")), w.at(key(l, "mlp.b_in")), w.at(key(l, "ln2.w")),
              w.at(key(l, "ln2.b")));
    for (const char* name : {"ln1.w", "ln1.b", "ln2.w", "ln2.b"}) w.erase(key(l, name));
  }
  fold_into(w.at("unembed.W_U"), w.at("unembed.b_U"), w.at("ln_final.w"), w.at("ln_final.b"));
  w.erase("ln_final.w");
  w.erase("ln_final.b");
  config.normalization = Normalization::LNPre;
}

// Removes the mean over d_model (the last axis) from a tensor that writes to the residual stream.
void center_last(at::Tensor& t) { t = t - t.mean(-1, /*keepdim=*/true); }

void center_writing_weights(WeightMap& w, const ModelConfig& config) {
  center_last(w.at("embed.W_E"));
  center_last(w.at("pos_embed.W_pos"));
  for (std::int64_t l = 0; l < config.n_layers; ++l) {
    for (const char* name : {"attn.W_O", "attn.b_O", "mlp.W_out", "mlp.b_out"}) {
      center_last(w.at(key(l, name)));
    }
  }
}

void center_unembed(WeightMap& w) {
  center_last(w.at("unembed.W_U"));
  center_last(w.at("unembed.b_U"));
}

void fold_value_biases(WeightMap& w, const ModelConfig& config) {
  for (std::int64_t l = 0; l < config.n_layers; ++l) {
    at::Tensor& b_V = w.at(key(l, "attn.b_V"));
    const at::Tensor& W_O = w.at(key(l, "attn.W_O"));
    at::Tensor& b_O = w.at(key(l, "attn.b_O"));
    // Softmax rows sum to 1, so the value bias reaches the output as a constant b_V @ W_O.
    b_O = b_O + (b_V.unsqueeze(-1) * W_O).sum(at::IntArrayRef{0, 1});
    b_V = at::zeros_like(b_V);
  }
}

}  // namespace

void process_weights(WeightMap& w, ModelConfig& config, const ProcessOptions& options) {
  if (options.fold_ln) fold_ln(w, config);
  if (options.center_writing_weights) center_writing_weights(w, config);
  if (options.center_unembed) center_unembed(w);
  if (options.fold_value_biases) fold_value_biases(w, config);
}

}  // namespace othrun::gpt::detail
