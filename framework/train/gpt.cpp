// The trainable TransformerLens forward. It mirrors libothrun_torch's inference forward op for op
// (LayerNorm as mean-centre / sqrt(mean(x^2) + eps), 1/sqrt(d_head) scores, -inf causal mask, erf
// GELU), so a model trained here and loaded there gives the same logits.
#include <othrun/train/gpt.hpp>

#include <othrun/error.hpp>
#include <othrun/othello.hpp>
#include <othrun/torch_bridge.hpp>

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

namespace othrun::train {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_matrix_param(const std::string& name) {
  for (const char* suffix : {"W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_in", "W_out", "W_U"}) {
    if (ends_with(name, std::string(".") + suffix)) return true;
  }
  return false;
}

// N(0, std^2) values from SplitMix64 by Box-Muller: reproducible without LibTorch's generator.
std::vector<float> normal_values(othello::SplitMix64& rng, std::int64_t count, double std_dev) {
  std::vector<float> out(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < out.size(); i += 2) {
    const double u1 = (static_cast<double>(rng.next() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1)) * std_dev;
    out[i] = static_cast<float>(r * std::cos(2 * std::numbers::pi * u2));
    if (i + 1 < out.size())
      out[i + 1] = static_cast<float>(r * std::sin(2 * std::numbers::pi * u2));
  }
  return out;
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& W, const at::Tensor& b) {
  const auto rows = x.size(0) * x.size(1);
  return at::addmm(b, x.reshape({rows, x.size(2)}), W).view({x.size(0), x.size(1), W.size(1)});
}

// [head, d_model, d_head] -> [d_model, head * d_head]
at::Tensor heads_in(const at::Tensor& W) {
  return W.permute({1, 0, 2}).reshape({W.size(1), W.size(0) * W.size(2)});
}

}  // namespace

Gpt::Gpt(const gpt::ModelConfig& config, std::uint64_t seed, double init_std) : config_(config) {
  othello::SplitMix64 rng(seed);
  for (const gpt::ParamShape& spec : gpt::expected_params(config)) {
    names_.push_back(spec.name);
    at::Tensor value;
    if (is_matrix_param(spec.name)) {
      std::int64_t count = 1;
      for (auto d : spec.shape) count *= d;
      const std::vector<float> values = normal_values(rng, count, init_std);
      value = at::from_blob(const_cast<float*>(values.data()), spec.shape, at::kFloat).clone();
    } else if (ends_with(spec.name, ".w")) {
      value = at::ones(spec.shape, at::kFloat);
    } else {
      value = at::zeros(spec.shape, at::kFloat);
    }
    params_[spec.name] = value;
  }
}

Gpt::Gpt(const gpt::ModelConfig& config, const std::vector<NamedTensor>& state,
         const std::string& source)
    : config_(config) {
  gpt::check_params(state, config, source);
  for (const gpt::ParamShape& spec : gpt::expected_params(config)) {
    names_.push_back(spec.name);
    params_[spec.name] = to_torch(find_tensor(state, spec.name)->to_float32()).clone();
  }
}

at::Tensor& Gpt::param(const std::string& name) {
  auto it = params_.find(name);
  if (it == params_.end()) throw Error("Gpt: no parameter '" + name + "'");
  return it->second;
}

const at::Tensor& Gpt::param(const std::string& name) const {
  auto it = params_.find(name);
  if (it == params_.end()) throw Error("Gpt: no parameter '" + name + "'");
  return it->second;
}

std::vector<at::Tensor> Gpt::params() const {
  std::vector<at::Tensor> out;
  for (const auto& name : names_) out.push_back(params_.at(name));
  return out;
}

void Gpt::set_requires_grad(bool requires_grad) {
  for (auto& [name, value] : params_) value.requires_grad_(requires_grad);
}

Gpt Gpt::leaves_sharing_weights() const {
  Gpt leaves = *this;
  for (auto& [name, value] : leaves.params_) value = value.detach().requires_grad_(true);
  return leaves;
}

std::vector<NamedTensor> Gpt::state_dict() const {
  std::vector<NamedTensor> out;
  for (const auto& name : names_) {
    out.push_back({name, from_torch(params_.at(name).detach().clone().contiguous())});
  }
  return out;
}

at::Tensor Gpt::layer_norm(const at::Tensor& x_in, const std::string& prefix) const {
  at::Tensor x = x_in - x_in.mean(-1, /*keepdim=*/true);
  const at::Tensor scale = (x.pow(2).mean(-1, /*keepdim=*/true) + config_.eps).sqrt();
  x = x / scale;
  if (config_.normalization == gpt::Normalization::LN) {
    x = x * params_.at(prefix + ".w") + params_.at(prefix + ".b");
  }
  return x;
}

at::Tensor Gpt::attention(const at::Tensor& x, const std::string& prefix) const {
  const auto batch = x.size(0), n_pos = x.size(1), heads = config_.n_heads, d_head = config_.d_head;
  auto project = [&](const char* which) {
    const at::Tensor& W = params_.at(prefix + "attn.W_" + which);
    const at::Tensor& b = params_.at(prefix + "attn.b_" + which);
    // [batch, pos, head, d_head] -> [batch, head, pos, d_head]
    return linear(x, heads_in(W), b.reshape({-1}))
        .view({batch, n_pos, heads, d_head})
        .permute({0, 2, 1, 3});
  };
  const at::Tensor q = project("Q"), k = project("K"), v = project("V");
  at::Tensor scores = at::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(d_head));
  const at::Tensor future = at::ones({n_pos, n_pos}, at::kBool).triu(1);
  scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
  const at::Tensor z = at::matmul(at::softmax(scores, -1), v).permute({0, 2, 1, 3});
  const at::Tensor& W_O = params_.at(prefix + "attn.W_O");
  return at::addmm(params_.at(prefix + "attn.b_O"), z.reshape({batch * n_pos, heads * d_head}),
                   W_O.reshape({heads * d_head, config_.d_model}))
      .view({batch, n_pos, config_.d_model});
}

at::Tensor Gpt::block(const at::Tensor& resid_pre, std::int64_t layer,
                      const std::string& splice_hook, const Splice& splice) const {
  const std::string prefix = fmt::format("blocks.{}.", layer);
  // Passes `value` through the splice when this is its hook.
  auto hook = [&](const char* name, const at::Tensor& value) {
    return (splice && splice_hook.size() == prefix.size() + std::strlen(name) &&
            splice_hook.compare(0, prefix.size(), prefix) == 0 &&
            splice_hook.compare(prefix.size(), std::string::npos, name) == 0)
               ? splice(value)
               : value;
  };
  const at::Tensor resid = hook("hook_resid_pre", resid_pre);
  const at::Tensor attn_out =
      hook("hook_attn_out", attention(layer_norm(resid, prefix + "ln1"), prefix));
  const at::Tensor resid_mid = hook("hook_resid_mid", resid + attn_out);
  const at::Tensor pre = hook(
      "mlp.hook_pre", linear(layer_norm(resid_mid, prefix + "ln2"), params_.at(prefix + "mlp.W_in"),
                             params_.at(prefix + "mlp.b_in")));
  const at::Tensor post =
      hook("mlp.hook_post",
           config_.act_fn == gpt::Activation::GeluErf ? at::gelu(pre) : at::gelu(pre, "tanh"));
  const at::Tensor mlp_out = hook("hook_mlp_out", linear(post, params_.at(prefix + "mlp.W_out"),
                                                         params_.at(prefix + "mlp.b_out")));
  return hook("hook_resid_post", resid_mid + mlp_out);
}

at::Tensor Gpt::forward(const at::Tensor& tokens, const std::string& splice_hook,
                        const Splice& splice) const {
  if (tokens.dim() != 2 || tokens.size(1) < 1 || tokens.size(1) > config_.n_ctx) {
    throw Error(fmt::format("Gpt::forward: tokens must be [batch, pos] with pos <= n_ctx={}",
                            config_.n_ctx));
  }
  const auto batch = tokens.size(0), n_pos = tokens.size(1);
  at::Tensor resid = params_.at("embed.W_E")
                         .index_select(0, tokens.reshape({-1}))
                         .view({batch, n_pos, config_.d_model}) +
                     params_.at("pos_embed.W_pos").narrow(0, 0, n_pos);
  for (std::int64_t layer = 0; layer < config_.n_layers; ++layer) {
    resid = block(resid, layer, splice_hook, splice);
  }
  return linear(layer_norm(resid, "ln_final"), params_.at("unembed.W_U"),
                params_.at("unembed.b_U"));
}

namespace {

std::int64_t input_positions(const Gpt& model, const at::Tensor& tokens) {
  return std::min<std::int64_t>(tokens.size(1) - 1, model.config().n_ctx);
}

LossAndLogits next_move_loss(const Gpt& model, const at::Tensor& tokens,
                             const std::string& splice_hook, const Splice& splice,
                             at::Reduction::Reduction reduction) {
  const std::int64_t n_pos = input_positions(model, tokens);
  const at::Tensor inputs = tokens.narrow(1, 0, n_pos);
  const at::Tensor targets = tokens.narrow(1, 1, n_pos);
  at::Tensor logits = model.forward(inputs, splice_hook, splice);
  at::Tensor loss =
      at::cross_entropy_loss(logits.reshape({-1, logits.size(2)}), targets.reshape({-1}), {},
                             reduction, othello::kPaddingToken);
  return {loss, logits};
}

}  // namespace

LossAndLogits next_move_loss(const Gpt& model, const at::Tensor& tokens,
                             const std::string& splice_hook, const Splice& splice) {
  return next_move_loss(model, tokens, splice_hook, splice, at::Reduction::Mean);
}

at::Tensor next_move_loss_sum(const Gpt& model, const at::Tensor& tokens) {
  return next_move_loss(model, tokens, {}, {}, at::Reduction::Sum).loss;
}

std::int64_t next_move_targets(const Gpt& model, const at::Tensor& tokens) {
  return tokens.narrow(1, 1, input_positions(model, tokens))
      .ne(othello::kPaddingToken)
      .sum()
      .item<std::int64_t>();
}

}  // namespace othrun::train
