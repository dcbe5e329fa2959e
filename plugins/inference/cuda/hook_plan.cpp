#include "hook_plan.hpp"

#include <othrun/error.hpp>
#include <othrun/hooks.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace othrun::cuda_gpt {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A [batch, pos, width] buffer, or its columns [column0, column0 + heads * d_head) as heads.
HookLayout rows(const Dims& d, std::int64_t width, std::int64_t column0 = 0, int heads = 1,
                int per_head = 0) {
  const int K = heads == 1 ? static_cast<int>(width) : per_head;
  HookLayout out;
  out.gather = {column0, d.n_pos * width, width, per_head, 1, heads, K};
  if (heads == 1) {
    out.trailing = {width};
  } else {
    out.trailing = {heads, per_head};
  }
  return out;
}

}  // namespace

Dims Dims::of(const gpt::ModelConfig& c, int batch, int n_pos) {
  Dims d;
  d.batch = batch;
  d.n_pos = n_pos;
  d.d_model = static_cast<int>(c.d_model);
  d.n_heads = static_cast<int>(c.n_heads);
  d.d_head = static_cast<int>(c.d_head);
  d.d_mlp = static_cast<int>(c.d_mlp);
  d.d_vocab = static_cast<int>(c.d_vocab);
  d.d_vocab_out = static_cast<int>(c.d_vocab_out);
  return d;
}

std::int64_t HookLayout::elements_per_position() const {
  return static_cast<std::int64_t>(gather.H) * gather.K;
}

HookLayout hook_layout(const std::string& name, const Dims& d) {
  const std::int64_t hd = d.hd();
  if (name == "hook_pos_embed") {  // W_pos broadcast over the batch
    HookLayout out = rows(d, d.d_model);
    out.gather.stride_b = 0;
    return out;
  }
  if (ends_with(name, "attn.hook_q")) return rows(d, 3 * hd, 0, d.n_heads, d.d_head);
  if (ends_with(name, "attn.hook_k")) return rows(d, 3 * hd, hd, d.n_heads, d.d_head);
  if (ends_with(name, "attn.hook_v")) return rows(d, 3 * hd, 2 * hd, d.n_heads, d.d_head);
  if (ends_with(name, "attn.hook_z")) return rows(d, hd, 0, d.n_heads, d.d_head);
  if (ends_with(name, "hook_attn_scores") || ends_with(name, "hook_pattern")) {
    // [batch, head, query, key] -> [batch, query, head, key]
    const std::int64_t P = d.n_pos;
    HookLayout out;
    out.gather = {0, d.n_heads * P * P, P, P * P, 1, d.n_heads, d.n_pos};
    out.trailing = {d.n_heads, P};
    return out;
  }
  if (ends_with(name, "hook_scale")) {
    HookLayout out = rows(d, 1);
    return out;
  }
  if (ends_with(name, "mlp.hook_pre") || ends_with(name, "mlp.hook_post")) return rows(d, d.d_mlp);
  if (name == "logits" || name == "log_probs") return rows(d, d.d_vocab_out);
  if (ends_with(name, "hook_resid_pre") || ends_with(name, "hook_resid_mid") ||
      ends_with(name, "hook_resid_post") || ends_with(name, "hook_attn_out") ||
      ends_with(name, "hook_mlp_out") || ends_with(name, "hook_normalized") ||
      name == "hook_embed") {
    return rows(d, d.d_model);
  }
  throw Error(fmt::format("'{}' is not a hook of the forward", name));
}

PositionWindow position_window(const gpt::RunRequest& request, int n_pos) {
  const auto end = request.pos_end < 0 ? n_pos : std::min<std::int64_t>(request.pos_end, n_pos);
  return {static_cast<int>(request.pos_begin), static_cast<int>(end)};
}

std::int64_t layers_needed(const gpt::RunRequest& request, const gpt::ModelConfig& c) {
  if (request.logits != gpt::LogitsOutput::None) return c.n_layers;
  std::int64_t needed = 0;
  for (const std::string& name : request.hooks) {
    if (name.rfind("ln_final.", 0) == 0) return c.n_layers;
    if (name.rfind("blocks.", 0) != 0) continue;  // hook_embed, hook_pos_embed
    const std::int64_t layer = hook_layer(name);
    const bool block_input = name == fmt::format("blocks.{}.hook_resid_pre", layer);
    needed = std::max(needed, block_input ? layer : layer + 1);
  }
  return needed;
}

std::vector<std::string> stored_names(const gpt::RunRequest& request) {
  std::vector<std::string> out(request.hooks.begin(), request.hooks.end());
  if (request.logits == gpt::LogitsOutput::Logits) out.push_back("logits");
  if (request.logits == gpt::LogitsOutput::LogProbs) out.push_back("log_probs");
  return out;
}

std::vector<StoredHook> stored_hooks(const gpt::RunRequest& request, const Dims& dims) {
  const PositionWindow window = position_window(request, dims.n_pos);
  std::vector<StoredHook> out;
  std::int64_t offset = 0;
  for (const std::string& name : stored_names(request)) {
    StoredHook hook{name, hook_layout(name, dims), offset, 0};
    hook.floats =
        static_cast<std::int64_t>(dims.batch) * window.kept() * hook.layout.elements_per_position();
    offset += hook.floats;
    out.push_back(std::move(hook));
  }
  return out;
}

void check_request(const gpt::RunRequest& request, const gpt::ModelConfig& c,
                   const std::vector<std::int32_t>& tokens, int batch, int n_pos) {
  const auto known = all_hook_names(c.n_layers);
  for (const std::string& name : request.hooks) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw Error(fmt::format("unknown hook '{}' for a model with {} layers", name, c.n_layers));
    }
  }
  if (batch < 1 || n_pos < 1 || n_pos > c.n_ctx ||
      tokens.size() != static_cast<std::size_t>(batch) * static_cast<std::size_t>(n_pos)) {
    throw Error(fmt::format("tokens must be [batch, pos] with 1 <= pos <= n_ctx={}, got {}x{}",
                            c.n_ctx, batch, n_pos));
  }
  const auto [lo, hi] = std::minmax_element(tokens.begin(), tokens.end());
  if (*lo < 0 || *hi >= c.d_vocab) {
    throw Error(fmt::format("tokens must lie in 0..{}, got {}..{}", c.d_vocab - 1, *lo, *hi));
  }
  if (request.pos_begin < 0 || (request.pos_end >= 0 && request.pos_end <= request.pos_begin) ||
      request.pos_begin >= n_pos) {
    throw Error(fmt::format("bad position range [{}, {}) for {} positions", request.pos_begin,
                            request.pos_end, n_pos));
  }
}

}  // namespace othrun::cuda_gpt
