// TransformerLens hook names: the full list for a model, and the notebook shorthand. Host and
// plugins resolve hook names with this one function, with no LibTorch anywhere:
//
//   resolve_hook("post.0", 8)          -> "blocks.0.mlp.hook_post"
//   resolve_hook("resid_pre:6", 8)     -> "blocks.6.hook_resid_pre"
//   resolve_hook("blocks.6.hook_resid_pre", 8) -> unchanged
//   resolve_hook("embed", 8)           -> "hook_embed"
//
// The shorthand is TransformerLens' utils.get_act_name(name, layer) with '.' or ':' between the
// name and the layer (YAML flow lists cannot hold the notebook's `("post", 0)` tuples). Recognised
// names: embed, pos_embed, resid_pre, resid_mid, resid_post, attn_out, mlp_out, q, k, v, z,
// attn_scores (also "scores"), pattern (also "attn"), pre, post, scale (ln1/ln2/ln_final by suffix:
// scale1, scale2; "ln_final.hook_scale" for the last), normalized1/normalized2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace othrun {

// Every hook of a model with `n_layers` layers, in forward order.
std::vector<std::string> all_hook_names(std::int64_t n_layers);

// The full hook name for `spec` (full name or shorthand), any layer number. Throws othrun::Error
// saying why `spec` is no hook (unknown shorthand, not a hook of a block, a layer number too
// large).
std::string canonical_hook(std::string_view spec);

// The full hook name for `spec`. Throws othrun::Error when `spec` names no hook or its layer is
// outside 0..n_layers-1.
std::string resolve_hook(std::string_view spec, std::int64_t n_layers);

// Checks the syntax only (any layer number accepted): the reason `spec` is no hook, or nullopt.
std::optional<std::string> hook_syntax_error(std::string_view spec);

// True when `spec` is written like a hook (blocks.L.x, name.L, name:L, or a global hook name),
// whether or not it names one: dataset references use it to tell hooks from other datasets.
bool looks_like_hook(std::string_view spec);

// The layer of a blocks.L.* hook, or -1 for hook_embed, hook_pos_embed and ln_final.*.
std::int64_t hook_layer(const std::string& full_name);

}  // namespace othrun
