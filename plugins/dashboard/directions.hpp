// What each unit writes into the residual stream, and what that does to the move logits:
//   - SAE feature f: decoder row W_dec[f];
//   - neuron n of blocks.L.mlp.hook_post: W_out[n] of that layer (read from the model file);
//   - neuron n of a residual-stream hook (hook_resid_pre/mid/post, hook_attn_out, hook_mlp_out):
//     the basis vector e_n;
//   - probe unit (square s): the probe's direction for s.
// Other hooks (mlp.hook_pre, attention internals) have no direction: the page says so.
#pragma once

#include "unit_source.hpp"

#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace othrun::dashboard {

struct Directions {
  std::int64_t dim = 0;
  std::vector<float> rows;  // [units, dim]
  std::string source;       // e.g. "decoder rows W_dec of the SAE"
};

// The unembedding side of an Othello-GPT checkpoint, read without LibTorch's model code.
struct Unembedding {
  std::int64_t d_model = 0, d_vocab = 0;
  std::vector<float> W_U;                 // [d_model, d_vocab]
  std::vector<float> ln_final_w;          // [d_model], empty for a LayerNorm-folded (LNPre) model
  std::vector<std::vector<float>> W_out;  // per layer [d_mlp, d_model]
  std::int64_t d_mlp = 0;
};
Unembedding read_unembedding(const std::filesystem::path& model);

// The units' directions, or nullopt with `why_not` saying why there are none.
std::optional<Directions> unit_directions(const UnitSource& source, const analysis::Sae* sae,
                                          const Unembedding* model, std::string& why_not);

// Direct effect of each direction on the move logits: (d - mean(d)) * ln_final.w (when the model
// has one) times W_U, centred over the 60 move tokens (log-probs ignore a common shift). Returned
// per square [units, 64]; the four centre squares (no move token) are NaN. The final LayerNorm
// also divides by the residual's scale at each position: the effect is per unit of that scale.
std::vector<float> direct_effect(const Directions& directions, const Unembedding& model);

// Cosine of each direction with each square's probe direction: [units, 64] for blank_dir and
// for mine_dir.
struct ProbeCosines {
  std::vector<float> blank, mine;
};
ProbeCosines probe_cosines(const Directions& directions, const analysis::Probe& probe);

}  // namespace othrun::dashboard
