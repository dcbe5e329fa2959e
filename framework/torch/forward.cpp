// The HookedTransformer forward (docs/inference.md, "The model") on ATen, recording only requested
// hooks and applying the request's edits at theirs. Recorded tensors are never modified afterwards
// (no in-place op follows a record), because a record may share memory with the tensor the forward
// goes on with.
#include <ATen/ATen.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <othrun/error.hpp>
#include <othrun/torch/hooks.hpp>
#include <othrun/torch_bridge.hpp>
#include "aten_model.hpp"

namespace othrun::gpt::detail {

namespace {

at::Tensor pack_heads_in(const at::Tensor& W) {
  // [head, d_model, d_head] -> [d_model, head*d_head]
  return W.permute({1, 0, 2}).reshape({W.size(1), W.size(0) * W.size(2)});
}

// Copies the requested hooks out of the forward, cut to the requested positions, and applies the
// edits: hook() is a hook point.
class Recorder {
 public:
  Recorder(const RunRequest& request, const Editor& editor, std::int64_t n_pos)
      : request_(request),
        editor_(editor),
        begin_(request.pos_begin),
        end_(request.pos_end < 0 ? n_pos : std::min(request.pos_end, n_pos)) {}

  bool wants(const std::string& name) const { return request_.hooks.count(name) != 0; }
  // Recorded or edited: the forward must compute the hook's activation on its own.
  bool touches(const std::string& name) const { return wants(name) || editor_.touches(name); }

  // The hook point `name`: `t` after its edits, recorded when requested.
  at::Tensor hook(const std::string& name, const at::Tensor& t, std::int64_t pos_dim = 1) {
    at::Tensor out = editor_.apply(name, t);
    record(name, out, pos_dim);
    return out;
  }

  // `pos_dim`: the positions axis (1, or 2 for [batch, head, query, key]).
  void record(const std::string& name, const at::Tensor& t, std::int64_t pos_dim = 1) {
    if (!wants(name)) return;
    cache_[name] = to_cache(t.narrow(pos_dim, begin_, end_ - begin_));
  }
  void record_always(const std::string& name, const at::Tensor& t) {
    cache_[name] = to_cache(t.narrow(1, begin_, end_ - begin_));
  }
  Cache take() { return std::move(cache_); }

 private:
  // A contiguous float32 HostTensor sharing `t`'s memory (copied first only if `t` is not already
  // contiguous float32).
  static HostTensor to_cache(const at::Tensor& t) {
    return from_torch(t.to(at::kFloat).contiguous());
  }

  const RunRequest& request_;
  const Editor& editor_;
  std::int64_t begin_, end_;
  Cache cache_;
};

// TransformerLens LayerNorm / LayerNormPre with hooks `prefix`.hook_scale / hook_normalized.
at::Tensor layer_norm(const at::Tensor& x_in, const at::Tensor& w, const at::Tensor& b, double eps,
                      const std::string& prefix, Recorder& rec) {
  const std::string scale_hook = prefix + ".hook_scale";
  const std::string normalized_hook = prefix + ".hook_normalized";
  if (!rec.touches(scale_hook) && !rec.touches(normalized_hook)) {
    // No hook inside: ATen's fused kernel computes the same normalisation in one pass.
    return at::layer_norm(x_in, {x_in.size(-1)}, w, b, eps);
  }
  at::Tensor x = x_in - x_in.mean(-1, /*keepdim=*/true);
  at::Tensor scale = (x.pow(2).mean(-1, /*keepdim=*/true) + eps).sqrt();
  scale = rec.hook(scale_hook, scale);
  x = x / scale;
  if (w.defined()) x = x * w + b;
  return rec.hook(normalized_hook, x);
}

// x [batch, pos, in] @ W [in, out] + b, as one addmm over the flattened rows.
at::Tensor linear(const at::Tensor& x, const at::Tensor& W, const at::Tensor& b) {
  const auto rows = x.size(0) * x.size(1);
  return at::addmm(b, x.reshape({rows, x.size(2)}), W).view({x.size(0), x.size(1), W.size(1)});
}

at::Tensor attention(const at::Tensor& x, const LayerParams& p, const ModelConfig& c,
                     const std::string& prefix, Recorder& rec) {
  const auto batch = x.size(0), n_pos = x.size(1);
  const at::Tensor qkv = linear(x, p.W_qkv, p.b_qkv).view({batch, n_pos, 3, c.n_heads, c.d_head});
  const at::Tensor q = rec.hook(prefix + "attn.hook_q", qkv.select(2, 0));
  const at::Tensor k = rec.hook(prefix + "attn.hook_k", qkv.select(2, 1));
  const at::Tensor v = rec.hook(prefix + "attn.hook_v", qkv.select(2, 2));
  // [batch, head, query, key]; TransformerLens divides by attn_scale = sqrt(d_head).
  at::Tensor scores = at::matmul(q.permute({0, 2, 1, 3}), k.permute({0, 2, 3, 1}));
  scores.div_(std::sqrt(static_cast<double>(c.d_head)));
  // Causal mask with -inf, as TransformerLens' IGNORE in current versions (older used -1e5).
  const at::Tensor future = at::ones({n_pos, n_pos}, at::kBool).triu(1);
  scores.masked_fill_(future, -std::numeric_limits<float>::infinity());
  scores = rec.hook(prefix + "attn.hook_attn_scores", scores, 2);
  const at::Tensor pattern = rec.hook(prefix + "attn.hook_pattern", at::softmax(scores, -1), 2);
  const at::Tensor z = rec.hook(prefix + "attn.hook_z",
                                at::matmul(pattern, v.permute({0, 2, 1, 3})).permute({0, 2, 1, 3}));
  const at::Tensor z_flat = z.reshape({batch * n_pos, c.n_heads * c.d_head});
  return at::addmm(p.b_O, z_flat, p.W_O).view({batch, n_pos, c.d_model});
}

at::Tensor gelu(const at::Tensor& x, Activation act) {
  return act == Activation::GeluErf ? at::gelu(x) : at::gelu(x, "tanh");
}

at::Tensor block(const at::Tensor& resid_in, const LayerParams& p, const ModelConfig& c,
                 std::int64_t layer, Recorder& rec) {
  const std::string prefix = fmt::format("blocks.{}.", layer);
  const at::Tensor resid = rec.hook(prefix + "hook_resid_pre", resid_in);
  const at::Tensor x1 = layer_norm(resid, p.ln1_w, p.ln1_b, c.eps, prefix + "ln1", rec);
  const at::Tensor attn_out = rec.hook(prefix + "hook_attn_out", attention(x1, p, c, prefix, rec));
  const at::Tensor resid_mid = rec.hook(prefix + "hook_resid_mid", resid + attn_out);
  const at::Tensor x2 = layer_norm(resid_mid, p.ln2_w, p.ln2_b, c.eps, prefix + "ln2", rec);
  const at::Tensor pre = rec.hook(prefix + "mlp.hook_pre", linear(x2, p.W_in, p.b_in));
  const at::Tensor post = rec.hook(prefix + "mlp.hook_post", gelu(pre, c.act_fn));
  const at::Tensor mlp_out = rec.hook(prefix + "hook_mlp_out", linear(post, p.W_out, p.b_out));
  return rec.hook(prefix + "hook_resid_post", resid_mid + mlp_out);
}

// How many blocks the request needs: all of them for logits or ln_final hooks, else up to the
// deepest requested hook. blocks.L.hook_resid_pre is block L's input: blocks 0..L-1 suffice.
std::int64_t layers_needed(const RunRequest& request, const ModelConfig& c) {
  if (request.logits != LogitsOutput::None) return c.n_layers;
  std::int64_t needed = 0;
  for (const std::string& name : request.hooks) {
    if (name.rfind("ln_final.", 0) == 0) return c.n_layers;
    const std::int64_t layer = hook_layer(name);
    const bool block_input = name == fmt::format("blocks.{}.hook_resid_pre", layer);
    needed = std::max(needed, block_input ? layer : layer + 1);
  }
  return needed;
}

void check_request(const RunRequest& request, const ModelConfig& c, const at::Tensor& tokens) {
  const auto known = all_hook_names(c.n_layers);
  for (const std::string& name : request.hooks) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw Error(fmt::format("unknown hook '{}' for a model with {} layers", name, c.n_layers));
    }
  }
  if (tokens.dim() != 2 || tokens.size(1) < 1 || tokens.size(1) > c.n_ctx) {
    throw Error(fmt::format("tokens must be [batch, pos] with 1 <= pos <= n_ctx={}, got {}",
                            c.n_ctx, fmt::join(tokens.sizes().begin(), tokens.sizes().end(), "x")));
  }
  const auto lo = tokens.min().item<std::int64_t>(), hi = tokens.max().item<std::int64_t>();
  if (lo < 0 || hi >= c.d_vocab) {
    throw Error(fmt::format("tokens must lie in 0..{}, got {}..{}", c.d_vocab - 1, lo, hi));
  }
  if (request.pos_begin < 0 || (request.pos_end >= 0 && request.pos_end <= request.pos_begin)) {
    throw Error(fmt::format("bad position range [{}, {})", request.pos_begin, request.pos_end));
  }
}

// A run that starts at block `start_layer`: its input has the run's shape, and nothing is asked of
// a hook the run skips (it would silently be missing or unedited).
void check_start(const RunRequest& request, const ModelConfig& c, const at::Tensor& tokens) {
  if (request.start_layer < 0 || request.start_layer > c.n_layers) {
    throw Error(fmt::format("start_layer {} outside 0..{}", request.start_layer, c.n_layers));
  }
  if (request.start_layer == 0) return;
  const HostTensor::Shape want{tokens.size(0), tokens.size(1), c.d_model};
  if (request.start_resid.shape() != want) {
    throw Error(fmt::format("start_resid must be {} (batch, pos, d_model), got {}",
                            shape_string(want), shape_string(request.start_resid.shape())));
  }
  auto skipped = [&](const std::string& name) {
    return name.rfind("ln_final.", 0) != 0 && hook_layer(name) < request.start_layer;
  };
  for (const std::string& name : request.hooks) {
    if (skipped(name)) {
      throw Error(fmt::format("hook '{}' is before start_layer {}: that part is not run", name,
                              request.start_layer));
    }
  }
  for (const Edit& edit : request.edits) {
    if (skipped(edit.hook)) {
      throw Error(fmt::format("an edit at '{}' is before start_layer {}: that part is not run",
                              edit.hook, request.start_layer));
    }
  }
}

}  // namespace

PackedModel pack(const WeightMap& w, const ModelConfig& c) {
  auto get = [&](const std::string& name) { return w.at(name); };
  auto opt = [&](const std::string& name) {
    auto it = w.find(name);
    return it == w.end() ? at::Tensor() : it->second;
  };
  PackedModel m;
  m.W_E = get("embed.W_E");
  m.W_pos = get("pos_embed.W_pos");
  for (std::int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("blocks.{}.", l);
    LayerParams lp;
    lp.ln1_w = opt(p + "ln1.w");
    lp.ln1_b = opt(p + "ln1.b");
    lp.ln2_w = opt(p + "ln2.w");
    lp.ln2_b = opt(p + "ln2.b");
    lp.W_qkv = at::cat({pack_heads_in(get(p + "attn.W_Q")), pack_heads_in(get(p + "attn.W_K")),
                        pack_heads_in(get(p + "attn.W_V"))},
                       1)
                   .contiguous();
    lp.b_qkv = at::cat({get(p + "attn.b_Q").reshape(-1), get(p + "attn.b_K").reshape(-1),
                        get(p + "attn.b_V").reshape(-1)});
    lp.W_O = get(p + "attn.W_O").reshape({c.n_heads * c.d_head, c.d_model}).contiguous();
    lp.b_O = get(p + "attn.b_O");
    lp.W_in = get(p + "mlp.W_in").contiguous();
    lp.b_in = get(p + "mlp.b_in");
    lp.W_out = get(p + "mlp.W_out").contiguous();
    lp.b_out = get(p + "mlp.b_out");
    m.layers.push_back(std::move(lp));
  }
  m.lnf_w = opt("ln_final.w");
  m.lnf_b = opt("ln_final.b");
  m.W_U = get("unembed.W_U").contiguous();
  m.b_U = get("unembed.b_U");
  return m;
}

Cache forward(const PackedModel& m, const ModelConfig& c, const at::Tensor& tokens,
              const RunRequest& request) {
  check_request(request, c, tokens);
  check_start(request, c, tokens);
  const Editor editor(request.edits, c);
  const auto batch = tokens.size(0), n_pos = tokens.size(1);
  Recorder rec(request, editor, n_pos);
  at::Tensor resid;
  if (request.start_layer > 0) {
    resid = to_torch(request.start_resid).to(at::kFloat);  // only read: edits work on copies
  } else {
    const at::Tensor embed = rec.hook(
        "hook_embed", m.W_E.index_select(0, tokens.reshape(-1)).view({batch, n_pos, c.d_model}));
    const at::Tensor pos_embed =
        rec.hook("hook_pos_embed",
                 m.W_pos.narrow(0, 0, n_pos).unsqueeze(0).expand({batch, n_pos, c.d_model}));
    resid = embed + pos_embed;
  }
  const std::int64_t layers = layers_needed(request, c);
  for (std::int64_t l = request.start_layer; l < layers; ++l) {
    resid = block(resid, m.layers[static_cast<std::size_t>(l)], c, l, rec);
  }
  // The input of the first block not run, when that is the deepest hook asked for.
  if (layers < c.n_layers) rec.hook(fmt::format("blocks.{}.hook_resid_pre", layers), resid);
  if (layers == c.n_layers &&
      (request.logits != LogitsOutput::None || rec.touches("ln_final.hook_scale") ||
       rec.touches("ln_final.hook_normalized"))) {
    const at::Tensor x = layer_norm(resid, m.lnf_w, m.lnf_b, c.eps, "ln_final", rec);
    at::Tensor logits = linear(x, m.W_U, m.b_U);
    if (request.logits == LogitsOutput::Logits) rec.record_always("logits", logits);
    if (request.logits == LogitsOutput::LogProbs) {
      rec.record_always("log_probs", at::log_softmax(logits, -1));
    }
  }
  return rec.take();
}

}  // namespace othrun::gpt::detail
