// ModelConfig: expected parameter shapes, inference from a state dict, and the key check.
#include <othrun/error.hpp>
#include <othrun/torch/model_config.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace othrun::gpt {

const char* to_string(Normalization normalization) {
  return normalization == Normalization::LN ? "LN" : "LNPre";
}

const char* to_string(Activation activation) {
  return activation == Activation::GeluErf ? "gelu" : "gelu_new";
}

std::string ModelConfig::to_string() const {
  return fmt::format(
      "n_layers={} d_model={} n_heads={} d_head={} d_mlp={} d_vocab={} d_vocab_out={} n_ctx={} "
      "normalization={} act_fn={}",
      n_layers, d_model, n_heads, d_head, d_mlp, d_vocab, d_vocab_out, n_ctx,
      gpt::to_string(normalization), gpt::to_string(act_fn));
}

namespace {

void add_ln(std::vector<ParamShape>& out, const ModelConfig& c, const std::string& prefix) {
  if (c.normalization != Normalization::LN) return;
  out.push_back({prefix + ".w", {c.d_model}});
  out.push_back({prefix + ".b", {c.d_model}});
}

void add_block(std::vector<ParamShape>& out, const ModelConfig& c, std::int64_t layer) {
  const std::string p = fmt::format("blocks.{}.", layer);
  add_ln(out, c, p + "ln1");
  add_ln(out, c, p + "ln2");
  for (const char* name : {"W_Q", "W_K", "W_V"}) {
    out.push_back({p + "attn." + name, {c.n_heads, c.d_model, c.d_head}});
  }
  out.push_back({p + "attn.W_O", {c.n_heads, c.d_head, c.d_model}});
  for (const char* name : {"b_Q", "b_K", "b_V"}) {
    out.push_back({p + "attn." + name, {c.n_heads, c.d_head}});
  }
  out.push_back({p + "attn.b_O", {c.d_model}});
  out.push_back({p + "mlp.W_in", {c.d_model, c.d_mlp}});
  out.push_back({p + "mlp.b_in", {c.d_mlp}});
  out.push_back({p + "mlp.W_out", {c.d_mlp, c.d_model}});
  out.push_back({p + "mlp.b_out", {c.d_model}});
}

const HostTensor& need(const std::vector<NamedTensor>& tensors, const std::string& name,
                       std::size_t rank, const std::string& source) {
  const HostTensor* t = find_tensor(tensors, name);
  if (t == nullptr) {
    throw DataError(fmt::format(
        "{}: cannot infer the model config: missing key {} (not a TransformerLens state dict?)",
        source, name));
  }
  if (t->dim() != rank) {
    throw DataError(
        fmt::format("{}: cannot infer the model config: {} has shape {}, expected {} "
                    "dimensions",
                    source, name, shape_string(t->shape()), rank));
  }
  return *t;
}

std::int64_t count_layers(const std::vector<NamedTensor>& tensors) {
  static const std::regex block(R"(^blocks\.(\d+)\.)");
  std::int64_t layers = 0;
  for (const NamedTensor& t : tensors) {
    std::smatch m;
    if (std::regex_search(t.name, m, block)) {
      layers = std::max<std::int64_t>(layers, std::stoll(m[1].str()) + 1);
    }
  }
  return layers;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::vector<ParamShape> expected_params(const ModelConfig& c) {
  std::vector<ParamShape> out;
  out.push_back({"embed.W_E", {c.d_vocab, c.d_model}});
  out.push_back({"pos_embed.W_pos", {c.n_ctx, c.d_model}});
  for (std::int64_t layer = 0; layer < c.n_layers; ++layer) add_block(out, c, layer);
  add_ln(out, c, "ln_final");
  out.push_back({"unembed.W_U", {c.d_model, c.d_vocab_out}});
  out.push_back({"unembed.b_U", {c.d_vocab_out}});
  return out;
}

bool is_ignored_buffer(const std::string& name) {
  static const std::regex buffer(R"(^blocks\.\d+\.attn\.(mask|IGNORE)$)");
  return std::regex_match(name, buffer);
}

ModelConfig infer_config(const std::vector<NamedTensor>& tensors, const std::string& source,
                         const ModelConfig& base) {
  ModelConfig c = base;
  const HostTensor& w_e = need(tensors, "embed.W_E", 2, source);
  const HostTensor& w_pos = need(tensors, "pos_embed.W_pos", 2, source);
  const HostTensor& w_q = need(tensors, "blocks.0.attn.W_Q", 3, source);
  const HostTensor& w_in = need(tensors, "blocks.0.mlp.W_in", 2, source);
  const HostTensor& w_u = need(tensors, "unembed.W_U", 2, source);
  c.d_vocab = w_e.shape()[0];
  c.d_model = w_e.shape()[1];
  c.n_ctx = w_pos.shape()[0];
  c.n_heads = w_q.shape()[0];
  c.d_head = w_q.shape()[2];
  c.d_mlp = w_in.shape()[1];
  c.d_vocab_out = w_u.shape()[1];
  c.n_layers = count_layers(tensors);
  c.normalization =
      find_tensor(tensors, "blocks.0.ln1.w") != nullptr ? Normalization::LN : Normalization::LNPre;
  return c;
}

void check_params(const std::vector<NamedTensor>& tensors, const ModelConfig& config,
                  const std::string& source) {
  std::map<std::string, const HostTensor*> present;
  for (const NamedTensor& t : tensors) present[t.name] = &t.tensor;
  std::vector<std::string> missing, mis_shaped, unexpected;
  std::set<std::string> known;
  for (const ParamShape& p : expected_params(config)) {
    known.insert(p.name);
    auto it = present.find(p.name);
    if (it == present.end()) {
      missing.push_back(p.name);
    } else if (it->second->shape() != p.shape) {
      mis_shaped.push_back(fmt::format("{} {} (expected {})", p.name,
                                       shape_string(it->second->shape()), shape_string(p.shape)));
    }
  }
  for (const auto& [name, tensor] : present) {
    if (!known.count(name) && !is_ignored_buffer(name)) unexpected.push_back(name);
  }
  if (missing.empty() && mis_shaped.empty() && unexpected.empty()) return;
  std::string message =
      fmt::format("{}: state dict does not match the model ({})", source, config.to_string());
  if (!missing.empty()) message += "; missing keys: " + join(missing);
  if (!unexpected.empty()) message += "; unexpected keys: " + join(unexpected);
  if (!mis_shaped.empty()) message += "; wrong shapes: " + join(mis_shaped);
  throw DataError(message);
}

}  // namespace othrun::gpt
