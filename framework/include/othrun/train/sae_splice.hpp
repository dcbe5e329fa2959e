// The cost of an SAE to the model: the next-move loss when the SAE's reconstruction replaces the
// activation at its hook (positions [pos_begin, pos_end) only), against the clean loss. Runs the
// model through libothrun_train's Gpt (loaded with libothrun_torch's checkpoint reader and weight
// processing), since HookedTransformer has no hook-replacement entry point. No LibTorch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <othrun/torch/hooked_transformer.hpp>
#include <othrun/train/sae_training.hpp>

namespace othrun::train {

struct SpliceLoss {
  double clean = 0;    // next-move cross-entropy of the unchanged model
  double spliced = 0;  // with the SAE reconstruction at the hook
  double increase() const { return spliced - clean; }
};

struct SpliceRequest {
  std::filesystem::path model;
  gpt::LoadOptions load;  // the processing the activations were cached with
  std::string hook;       // full TransformerLens name
  std::string architecture = "standard";
  std::int64_t k = 0;
  std::int64_t pos_begin = 0, pos_end = 59;
  int threads = 1;
};

// `tokens`: [games, 60] model tokens (0 = padding).
SpliceLoss spliced_loss(const SpliceRequest& request, const SaeWeights& sae,
                        const std::vector<std::int64_t>& tokens);

}  // namespace othrun::train
