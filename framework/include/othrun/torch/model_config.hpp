// The configuration of a TransformerLens HookedTransformer (docs/inference.md), inferred from
// a state dict's shapes or given explicitly, and the weight processing options of from_pretrained.
// No LibTorch here: plugins validate configs without compiling Torch headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>

namespace othrun::gpt {

// LN: LayerNorm with learned w, b. LNPre: normalise only (the weights were folded into the next
// layer, as in synthetic_model.pth or after fold_ln).
enum class Normalization { LN, LNPre };
// TransformerLens act_fn "gelu" (exact erf) or "gelu_new" (tanh approximation).
enum class Activation { GeluErf, GeluTanh };

const char* to_string(Normalization normalization);
const char* to_string(Activation activation);

struct ModelConfig {
  std::int64_t n_layers = 8;
  std::int64_t d_model = 512;
  std::int64_t n_heads = 8;
  std::int64_t d_head = 64;
  std::int64_t d_mlp = 2048;
  std::int64_t d_vocab = 61;
  std::int64_t d_vocab_out = 61;
  std::int64_t n_ctx = 59;
  Normalization normalization = Normalization::LN;
  Activation act_fn = Activation::GeluErf;
  double eps = 1e-5;

  // "n_layers=8 d_model=512 ... normalization=LN act_fn=gelu"
  std::string to_string() const;
  bool operator==(const ModelConfig&) const = default;
};

// The weight processing HookedTransformer.from_pretrained applies by default.
struct ProcessOptions {
  bool fold_ln = true;
  bool center_writing_weights = true;
  bool center_unembed = true;
  bool fold_value_biases = true;

  static ProcessOptions none() { return {false, false, false, false}; }
};

// One expected parameter of a TransformerLens state dict: its name and shape under a config.
struct ParamShape {
  std::string name;
  HostTensor::Shape shape;
};

// Every parameter a TransformerLens state dict holds for `config`, in state_dict() order.
// LNPre configs have no ln*.w / ln*.b.
std::vector<ParamShape> expected_params(const ModelConfig& config);

// Infers the config from a TransformerLens-layout state dict (embed.W_E, pos_embed.W_pos,
// blocks.0.attn.W_Q, blocks.0.mlp.W_in, unembed.W_U, the highest blocks.L index, and whether
// blocks.0.ln1.w is present). `act_fn` and `eps` cannot be inferred and are taken from `base`.
// Throws othrun::DataError naming `source` and the keys it needs when they are absent.
ModelConfig infer_config(const std::vector<NamedTensor>& tensors, const std::string& source,
                         const ModelConfig& base = {});

// Checks `tensors` against expected_params(config): throws othrun::DataError naming `source` and
// listing every missing, unexpected and mis-shaped key. Buffers TransformerLens saves
// (blocks.L.attn.mask, blocks.L.attn.IGNORE) are allowed and ignored.
void check_params(const std::vector<NamedTensor>& tensors, const ModelConfig& config,
                  const std::string& source);

// True for the attention buffers a TransformerLens state dict may hold besides its parameters.
bool is_ignored_buffer(const std::string& name);

}  // namespace othrun::gpt
