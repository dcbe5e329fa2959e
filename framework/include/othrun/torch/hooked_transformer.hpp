// A TransformerLens-exact HookedTransformer forward on LibTorch (docs/inference.md), caching
// only the hooks asked for. The LibTorch types stay inside libothrun_torch: tensors cross this
// header as othrun::HostTensor, and cached activations are views on LibTorch memory (no copy) that
// keep it alive.
//
//   auto model = othrun::gpt::HookedTransformer::from_file("synthetic_model.pth", {});
//   othrun::gpt::RunRequest request;
//   request.hooks = {"blocks.6.hook_resid_pre"};
//   othrun::gpt::Cache cache = model.run(tokens /* int64 [batch, pos] */, request);
//   const othrun::HostTensor& resid = cache.at("blocks.6.hook_resid_pre");  // [batch, pos, 512]
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>
#include <othrun/torch/checkpoint.hpp>
#include <othrun/torch/edits.hpp>
#include <othrun/torch/model_config.hpp>

namespace othrun::gpt {

// Hook name -> activation (float32, contiguous). See hooks.hpp for the names.
using Cache = std::map<std::string, HostTensor>;

enum class LogitsOutput { None, Logits, LogProbs };

struct RunRequest {
  std::set<std::string> hooks;  // full TransformerLens names
  LogitsOutput logits = LogitsOutput::None;
  // Positions [pos_begin, pos_end) kept in the returned tensors (the query axis of attention
  // scores/pattern; keys stay whole). pos_end < 0: up to the input's length.
  std::int64_t pos_begin = 0;
  std::int64_t pos_end = -1;
  // Edits applied during the run, in order (edits.hpp). Recorded hooks hold the edited values.
  std::vector<Edit> edits;
  // Continue from a block's input instead of the embedding: blocks 0..start_layer-1 are not run
  // and the input of block start_layer (its hook_resid_pre) is `start_resid`, float32 [batch, pos,
  // d_model], e.g. a cached run's. 0: from the embedding (start_resid unused). Hooks and edits
  // before block start_layer are refused; `tokens` still give the batch and position sizes.
  std::int64_t start_layer = 0;
  HostTensor start_resid;
};

struct LoadOptions {
  CheckpointFormat format = CheckpointFormat::Auto;
  ProcessOptions process;  // from_pretrained's defaults: all on
  Activation act_fn = Activation::GeluErf;
  std::optional<ModelConfig> config;  // explicit config; checked against the file's shapes
  // Heads of a minGPT file, whose weights do not tell them (an explicit config's n_heads wins).
  // Unset: the count the file records, else an error (never a guess).
  std::optional<std::int64_t> mingpt_n_heads;
};

class HookedTransformer {
 public:
  // `tensors`: a TransformerLens state dict matching `config` (checked; `source` names it in
  // errors). The weights are copied into LibTorch float32 tensors.
  HookedTransformer(const ModelConfig& config, const std::vector<NamedTensor>& tensors,
                    const std::string& source);
  HookedTransformer(HookedTransformer&&) noexcept;
  HookedTransformer& operator=(HookedTransformer&&) noexcept;
  ~HookedTransformer();

  // Loads a checkpoint, infers (or checks) the config and applies `options.process`.
  static HookedTransformer from_file(const std::filesystem::path& path, const LoadOptions& options);

  // TransformerLens' process_weights: fold_ln, center_writing_weights, center_unembed,
  // fold_value_biases, in that order. fold_ln turns an LN model into LNPre (a no-op on LNPre).
  void process_weights(const ProcessOptions& options);

  const ModelConfig& config() const;
  // The layout of the file the weights came from (TransformerLens when built from tensors).
  CheckpointFormat source_format() const;
  // The current weights as a TransformerLens state dict (copies).
  std::vector<NamedTensor> state_dict() const;

  // Runs `tokens` (integer [batch, pos], pos <= n_ctx) and returns the requested hooks plus
  // "logits" or "log_probs" when asked, with request.edits applied on the way (run_with_hooks).
  // Only the layers the request needs are computed.
  // Throws othrun::Error on an unknown hook, bad tokens or a bad edit.
  Cache run(const HostTensor& tokens, const RunRequest& request) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// LibTorch's intra-op thread count (at::set_num_threads).
void set_num_threads(int threads);

}  // namespace othrun::gpt
