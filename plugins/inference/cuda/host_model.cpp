#include "host_model.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

namespace othrun::cuda_gpt {

namespace {

std::string key(std::int64_t layer, const std::string& name) {
  return fmt::format("blocks.{}.{}", layer, name);
}

std::int64_t product(const HostTensor::Shape& shape, std::size_t from, std::size_t to) {
  std::int64_t n = 1;
  for (std::size_t i = from; i < to; ++i) n *= shape[i];
  return n;
}

// Folds LN weight w and bias b into W [..., d_model, out] and its bias [..., out], then centres W
// over its d_model axis: bias += b @ W (with W before scaling), W *= w per d_model row,
// W -= mean over d_model (fold_into in process_weights.cpp).
void fold_into(Array& W, Array& bias, const Array& w, const Array& b) {
  const std::size_t nd = W.shape.size();
  const std::int64_t groups = product(W.shape, 0, nd - 2);
  const std::int64_t d_model = W.shape[nd - 2], out = W.shape[nd - 1];
  for (std::int64_t g = 0; g < groups; ++g) {
    float* Wg = W.values.data() + g * d_model * out;
    float* bg = bias.values.data() + g * out;
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = 0;
      for (std::int64_t d = 0; d < d_model; ++d) sum += double(Wg[d * out + o]) * b.values[d];
      bg[o] = static_cast<float>(bg[o] + sum);
    }
    for (std::int64_t d = 0; d < d_model; ++d) {
      for (std::int64_t o = 0; o < out; ++o) Wg[d * out + o] *= w.values[d];
    }
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = 0;
      for (std::int64_t d = 0; d < d_model; ++d) sum += Wg[d * out + o];
      const auto mean = static_cast<float>(sum / static_cast<double>(d_model));
      for (std::int64_t d = 0; d < d_model; ++d) Wg[d * out + o] -= mean;
    }
  }
}

void fold_ln(WeightMap& w, gpt::ModelConfig& config) {
  if (config.normalization != gpt::Normalization::LN) return;  // LNPre: already folded
  for (std::int64_t l = 0; l < config.n_layers; ++l) {
    const Array ln1_w = w.at(key(l, "ln1.w")), ln1_b = w.at(key(l, "ln1.b"));
    for (const char* x : {"Q", "K", "V"}) {
      fold_into(w.at(key(l, fmt::format("attn.W_{}", x))),
                w.at(key(l, fmt::format("attn.b_{}", x))), ln1_w, ln1_b);
    }
    fold_into(w.at(key(l, "mlp.W_in")), w.at(key(l, "mlp.b_in")), w.at(key(l, "ln2.w")),
              w.at(key(l, "ln2.b")));
    for (const char* name : {"ln1.w", "ln1.b", "ln2.w", "ln2.b"}) w.erase(key(l, name));
  }
  fold_into(w.at("unembed.W_U"), w.at("unembed.b_U"), w.at("ln_final.w"), w.at("ln_final.b"));
  w.erase("ln_final.w");
  w.erase("ln_final.b");
  config.normalization = gpt::Normalization::LNPre;
}

// Removes the mean over the last axis from every row.
void center_last(Array& t) {
  const std::int64_t n = t.shape.back();
  const std::int64_t rows = static_cast<std::int64_t>(t.values.size()) / n;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = t.values.data() + r * n;
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += row[i];
    const auto mean = static_cast<float>(sum / static_cast<double>(n));
    for (std::int64_t i = 0; i < n; ++i) row[i] -= mean;
  }
}

void center_writing_weights(WeightMap& w, const gpt::ModelConfig& config) {
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

// b_O += sum_h b_V[h] @ W_O[h]; b_V = 0 (softmax rows sum to 1).
void fold_value_biases(WeightMap& w, const gpt::ModelConfig& config) {
  for (std::int64_t l = 0; l < config.n_layers; ++l) {
    Array& b_V = w.at(key(l, "attn.b_V"));
    const Array& W_O = w.at(key(l, "attn.W_O"));  // [H, d_head, d_model]
    Array& b_O = w.at(key(l, "attn.b_O"));
    const std::int64_t he = W_O.size(0) * W_O.size(1), d_model = W_O.size(2);
    for (std::int64_t d = 0; d < d_model; ++d) {
      double sum = 0;
      for (std::int64_t i = 0; i < he; ++i)
        sum += double(b_V.values[i]) * W_O.values[i * d_model + d];
      b_O.values[d] = static_cast<float>(b_O.values[d] + sum);
    }
    std::fill(b_V.values.begin(), b_V.values.end(), 0.0f);
  }
}

// [H, d_model, d_head] -> columns h*d_head + e of a [d_model, 3*H*d_head] matrix from `column0`.
void put_heads(std::vector<float>& W_qkv, std::int64_t columns, std::int64_t column0,
               const Array& W) {
  const std::int64_t H = W.size(0), d_model = W.size(1), d_head = W.size(2);
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t d = 0; d < d_model; ++d) {
      for (std::int64_t e = 0; e < d_head; ++e) {
        W_qkv[d * columns + column0 + h * d_head + e] = W.values[(h * d_model + d) * d_head + e];
      }
    }
  }
}

std::vector<float> optional_values(const WeightMap& w, const std::string& name) {
  auto it = w.find(name);
  return it == w.end() ? std::vector<float>{} : it->second.values;
}

}  // namespace

WeightMap to_weight_map(const std::vector<NamedTensor>& tensors) {
  WeightMap w;
  for (const NamedTensor& t : tensors) {
    if (gpt::is_ignored_buffer(t.name)) continue;
    w[t.name] = Array{t.tensor.shape(), t.tensor.to_vector<float>()};
  }
  return w;
}

void process_weights(WeightMap& w, gpt::ModelConfig& config, const gpt::ProcessOptions& options) {
  if (options.fold_ln) fold_ln(w, config);
  if (options.center_writing_weights) center_writing_weights(w, config);
  if (options.center_unembed) center_unembed(w);
  if (options.fold_value_biases) fold_value_biases(w, config);
}

PackedModel pack(const WeightMap& w, const gpt::ModelConfig& c) {
  PackedModel m;
  m.config = c;
  m.W_E = w.at("embed.W_E").values;
  m.W_pos = w.at("pos_embed.W_pos").values;
  const std::int64_t hd = c.n_heads * c.d_head, columns = 3 * hd;
  for (std::int64_t l = 0; l < c.n_layers; ++l) {
    PackedLayer p;
    p.ln1_w = optional_values(w, key(l, "ln1.w"));
    p.ln1_b = optional_values(w, key(l, "ln1.b"));
    p.ln2_w = optional_values(w, key(l, "ln2.w"));
    p.ln2_b = optional_values(w, key(l, "ln2.b"));
    p.W_qkv.assign(static_cast<std::size_t>(c.d_model * columns), 0.0f);
    put_heads(p.W_qkv, columns, 0, w.at(key(l, "attn.W_Q")));
    put_heads(p.W_qkv, columns, hd, w.at(key(l, "attn.W_K")));
    put_heads(p.W_qkv, columns, 2 * hd, w.at(key(l, "attn.W_V")));
    for (const char* b : {"attn.b_Q", "attn.b_K", "attn.b_V"}) {
      const auto& v = w.at(key(l, b)).values;  // [H, d_head]: already head-major
      p.b_qkv.insert(p.b_qkv.end(), v.begin(), v.end());
    }
    p.W_O = w.at(key(l, "attn.W_O")).values;  // [H, d_head, d_model] = [H*d_head, d_model]
    p.b_O = w.at(key(l, "attn.b_O")).values;
    p.W_in = w.at(key(l, "mlp.W_in")).values;
    p.b_in = w.at(key(l, "mlp.b_in")).values;
    p.W_out = w.at(key(l, "mlp.W_out")).values;
    p.b_out = w.at(key(l, "mlp.b_out")).values;
    m.layers.push_back(std::move(p));
  }
  m.lnf_w = optional_values(w, "ln_final.w");
  m.lnf_b = optional_values(w, "ln_final.b");
  m.W_U = w.at("unembed.W_U").values;
  m.b_U = w.at("unembed.b_U").values;
  return m;
}

HostModel load_host_model(const std::filesystem::path& path, const gpt::LoadOptions& options) {
  const std::optional<std::int64_t> heads =
      options.config ? std::optional(options.config->n_heads) : options.mingpt_n_heads;
  const gpt::LoadedCheckpoint loaded = gpt::load_checkpoint(path, options.format, heads);
  gpt::ModelConfig base = options.config.value_or(gpt::ModelConfig{});
  base.act_fn = options.act_fn;
  gpt::ModelConfig config =
      options.config ? base : gpt::infer_config(loaded.tensors, path.string(), base);
  gpt::check_params(loaded.tensors, config, path.string());
  WeightMap weights = to_weight_map(loaded.tensors);
  process_weights(weights, config, options.process);
  return HostModel{pack(weights, config), loaded.format};
}

}  // namespace othrun::cuda_gpt
