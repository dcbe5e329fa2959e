// Hook names and the notebook's cache shorthand (TransformerLens utils.get_act_name).
#include <othrun/error.hpp>
#include <othrun/hooks.hpp>

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <optional>
#include <regex>

namespace othrun {

namespace {

// The hooks of one block, relative to "blocks.L.", in forward order.
const std::vector<std::string>& block_hooks() {
  static const std::vector<std::string> hooks = {
      "hook_resid_pre",      "ln1.hook_scale", "ln1.hook_normalized",   "attn.hook_q",
      "attn.hook_k",         "attn.hook_v",    "attn.hook_attn_scores", "attn.hook_pattern",
      "attn.hook_z",         "hook_attn_out",  "hook_resid_mid",        "ln2.hook_scale",
      "ln2.hook_normalized", "mlp.hook_pre",   "mlp.hook_post",         "hook_mlp_out",
      "hook_resid_post"};
  return hooks;
}

// Shorthand name -> the block-relative hook (get_act_name's table, plus "scores").
const std::map<std::string, std::string>& shorthand() {
  static const std::map<std::string, std::string> table = {{"resid_pre", "hook_resid_pre"},
                                                           {"resid_mid", "hook_resid_mid"},
                                                           {"resid_post", "hook_resid_post"},
                                                           {"attn_out", "hook_attn_out"},
                                                           {"mlp_out", "hook_mlp_out"},
                                                           {"q", "attn.hook_q"},
                                                           {"k", "attn.hook_k"},
                                                           {"v", "attn.hook_v"},
                                                           {"z", "attn.hook_z"},
                                                           {"attn_scores", "attn.hook_attn_scores"},
                                                           {"scores", "attn.hook_attn_scores"},
                                                           {"pattern", "attn.hook_pattern"},
                                                           {"attn", "attn.hook_pattern"},
                                                           {"pre", "mlp.hook_pre"},
                                                           {"post", "mlp.hook_post"},
                                                           {"scale1", "ln1.hook_scale"},
                                                           {"scale2", "ln2.hook_scale"},
                                                           {"normalized1", "ln1.hook_normalized"},
                                                           {"normalized2", "ln2.hook_normalized"}};
  return table;
}

bool is_global_hook(std::string_view name) {
  return name == "hook_embed" || name == "hook_pos_embed" || name == "ln_final.hook_scale" ||
         name == "ln_final.hook_normalized";
}

bool is_block_hook(std::string_view rest) {
  for (const std::string& h : block_hooks()) {
    if (rest == h) return true;
  }
  return false;
}

struct Parsed {
  std::string name;         // full name with the layer
  std::int64_t layer = -1;  // -1: not a block hook
  std::string error;        // non-empty: not a hook
  bool hook_like = true;    // false: not even written like a hook
};

// Layer numbers are at most 9 digits here: a number std::stoll would overflow on gets a message.
std::optional<std::int64_t> parse_layer(const std::string& digits) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > 999'999'999) {
    return std::nullopt;
  }
  return value;
}

std::string too_large(std::string_view spec, const std::string& digits) {
  return fmt::format(
      "'{}': layer number {} is far too large (a model has at most a few hundred "
      "layers)",
      spec, digits);
}

Parsed parse(std::string_view spec) {
  const std::string text(spec);
  if (is_global_hook(text)) return {text, -1, ""};
  if (text == "embed" || text == "pos_embed") return {"hook_" + text, -1, ""};
  if (text == "scale" || text == "ln_final.scale") return {"ln_final.hook_scale", -1, ""};
  static const std::regex full(R"(^blocks\.(\d+)\.(.+)$)");
  static const std::regex short_form(R"(^([a-z_0-9]+)[.:](\d+)$)");
  std::smatch m;
  if (std::regex_match(text, m, full)) {
    if (!is_block_hook(m[2].str())) {
      return {"", -1,
              fmt::format("'{}' is no hook of a block (e.g. blocks.0.mlp.hook_post)", text)};
    }
    const auto layer = parse_layer(m[1].str());
    if (!layer) return {"", -1, too_large(text, m[1].str())};
    return {text, *layer, ""};
  }
  if (std::regex_match(text, m, short_form)) {
    auto it = shorthand().find(m[1].str());
    if (it == shorthand().end()) {
      std::string names;
      for (const auto& [key, value] : shorthand()) names += (names.empty() ? "" : ", ") + key;
      return {"", -1,
              fmt::format("'{}': unknown shorthand '{}' (known: {})", text, m[1].str(), names)};
    }
    const auto layer = parse_layer(m[2].str());
    if (!layer) return {"", -1, too_large(text, m[2].str())};
    return {fmt::format("blocks.{}.{}", *layer, it->second), *layer, ""};
  }
  return {"", -1,
          fmt::format("'{}' is no hook: use a TransformerLens name (blocks.6.hook_resid_pre) or "
                      "the shorthand name.layer (resid_pre.6, post:0)",
                      text),
          false};
}

}  // namespace

std::vector<std::string> all_hook_names(std::int64_t n_layers) {
  std::vector<std::string> out = {"hook_embed", "hook_pos_embed"};
  for (std::int64_t layer = 0; layer < n_layers; ++layer) {
    for (const std::string& h : block_hooks()) out.push_back(fmt::format("blocks.{}.{}", layer, h));
  }
  out.push_back("ln_final.hook_scale");
  out.push_back("ln_final.hook_normalized");
  return out;
}

std::optional<std::string> hook_syntax_error(std::string_view spec) {
  Parsed p = parse(spec);
  if (!p.error.empty()) return p.error;
  return std::nullopt;
}

std::string canonical_hook(std::string_view spec) {
  Parsed p = parse(spec);
  if (!p.error.empty()) throw Error(p.error);
  return p.name;
}

bool looks_like_hook(std::string_view spec) { return parse(spec).hook_like; }

std::string resolve_hook(std::string_view spec, std::int64_t n_layers) {
  Parsed p = parse(spec);
  if (!p.error.empty()) throw Error(p.error);
  if (p.layer >= n_layers) {
    throw Error(fmt::format("hook '{}': layer {} does not exist (the model has {} layers)", spec,
                            p.layer, n_layers));
  }
  return p.name;
}

std::int64_t hook_layer(const std::string& full_name) {
  static const std::regex full(R"(^blocks\.(\d+)\.)");
  std::smatch m;
  if (std::regex_search(full_name, m, full)) return parse_layer(m[1].str()).value_or(-1);
  return -1;
}

}  // namespace othrun
