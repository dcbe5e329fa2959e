// The Othello-GPT weights on the host without LibTorch: read with the core checkpoint readers
// (libothrun_gpt), processed as TransformerLens' process_weights (the CPU path's
// framework/torch/process_weights.cpp, step for step) and packed into the layout the CUDA forward
// and the host forward use.
#pragma once

#include <othrun/tensor.hpp>
#include <othrun/torch/hooked_transformer.hpp>  // LoadOptions (types only: no LibTorch)
#include <othrun/torch/model_config.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace othrun::cuda_gpt {

// A float32 row-major array with its shape.
struct Array {
  HostTensor::Shape shape;
  std::vector<float> values;
  std::int64_t size(int axis) const { return shape.at(static_cast<std::size_t>(axis)); }
};

// TransformerLens parameter name -> weights.
using WeightMap = std::map<std::string, Array>;

// Copies a checked TransformerLens state dict (buffers dropped) into float32 arrays.
WeightMap to_weight_map(const std::vector<NamedTensor>& tensors);

// TransformerLens' process_weights in place, as framework/torch/process_weights.cpp: fold_ln,
// center_writing_weights, center_unembed, fold_value_biases in that order; `config` becomes LNPre
// after fold_ln. Sums accumulate in double.
void process_weights(WeightMap& w, gpt::ModelConfig& config, const gpt::ProcessOptions& options);

// The weights of one block as the forward uses them (row-major, [in, out]).
struct PackedLayer {
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;  // empty for LNPre
  std::vector<float> W_qkv, b_qkv;              // [d_model, 3*H*d_head]: Q heads, K heads, V heads
  std::vector<float> W_O, b_O;                  // [H*d_head, d_model]
  std::vector<float> W_in, b_in, W_out, b_out;  // [d_model, d_mlp], [d_mlp, d_model]
};

struct PackedModel {
  gpt::ModelConfig config;
  std::vector<float> W_E, W_pos;  // [d_vocab, d_model], [n_ctx, d_model]
  std::vector<PackedLayer> layers;
  std::vector<float> lnf_w, lnf_b;  // empty for LNPre
  std::vector<float> W_U, b_U;      // [d_model, d_vocab_out]
};

PackedModel pack(const WeightMap& w, const gpt::ModelConfig& config);

// A checkpoint loaded, checked, processed by `options.process` and packed; `format` is set to what
// the file held. Throws othrun::DataError naming the file on any problem.
struct HostModel {
  PackedModel packed;
  gpt::CheckpointFormat format = gpt::CheckpointFormat::TransformerLens;
};
HostModel load_host_model(const std::filesystem::path& path, const gpt::LoadOptions& options);

}  // namespace othrun::cuda_gpt
