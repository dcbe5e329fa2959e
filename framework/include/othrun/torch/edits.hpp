// Edits of a HookedTransformer run: TransformerLens' run_with_hooks as data. An Edit changes the
// activation at one hook (or that hook and the same hook of every later layer) before the forward
// goes on with it; RunRequest::edits holds them (hooked_transformer.hpp). LibTorch-free.
//
//   othrun::gpt::RunRequest request;
//   request.logits = othrun::gpt::LogitsOutput::LogProbs;
//   request.edits.push_back(othrun::gpt::Edit::scale_along("blocks.4.hook_resid_post", direction,
//                                                          {-1.0},
//                                                          othrun::gpt::Positions::at({20})));
//   auto cache = model.run(tokens, request);  // cache.at("log_probs"): the edited model's output
//
// Geometry. A hook's activation is read as sites (batch row, position) each holding a vector on
// the LAST axis: d_model for the residual stream and attn/mlp out, d_mlp for mlp pre/post, d_head
// per head for q/k/v/z, n_key per head for attn_scores/pattern (their position axis is the query
// axis), 1 for ln hook_scale. Vector-valued edits act on that last axis. `heads` restricts an edit
// of a hook with a head axis (q, k, v, z, attn_scores, pattern) to some heads.
//
// Exactness. Sites an edit does not select are copied bit for bit. An edit that changes nothing
// (add a zero vector, scale a component by 1, an SAE edit that leaves every feature as it is,
// replace with the activations the run would have had) leaves the run bit-identical: each edit adds
// a difference that is exactly zero then.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <othrun/analysis/sae.hpp>
#include <othrun/tensor.hpp>

namespace othrun::gpt {

// Where in [batch, pos] an edit applies.
struct Positions {
  // Both empty: every position of every row.
  std::vector<std::int64_t> list;     // these positions in every row
  std::vector<std::int64_t> per_row;  // one position per batch row (size = batch)

  static Positions all() { return {}; }
  static Positions at(std::vector<std::int64_t> positions) { return {std::move(positions), {}}; }
  static Positions one_per_row(std::vector<std::int64_t> positions) {
    return {{}, std::move(positions)};
  }
};

enum class EditKind {
  Add,          // x += vector
  SetAlong,     // x += (value - x.u) u, u = direction / |direction|: the component set to value
  ScaleAlong,   // x += (factor - 1) (x.u) u: factor -1 reflects, 0 projects the component out
  Replace,      // x = source at the selected sites (activation patching)
  SaeFeatures,  // x += decode(f') - decode(f), f = the SAE's features of x, f' edited
};

// One SAE feature's edit: f'_feature = value (Set; Set 0 ablates) or f_feature * value (Scale).
struct FeatureEdit {
  enum class Op { Set, Scale };
  std::int64_t feature = 0;
  Op op = Op::Set;
  double value = 0;
};

struct Edit {
  EditKind kind = EditKind::Add;
  std::string hook;  // full TransformerLens name (resolve_hook for shorthand)
  // Also edit the same hook of every later layer (blocks.L'.<same> for L' > L). Not for Replace,
  // whose source belongs to one hook.
  bool and_later_layers = false;
  Positions positions;
  std::vector<std::int64_t> heads;  // hooks with a head axis only; empty: every head

  // Add: the vector added, float32 [d] or [batch, d] (one per row); d = the last axis.
  // SetAlong / ScaleAlong: the direction, same shapes; need not be unit length (not zero).
  HostTensor vector;
  // SetAlong: the value of the component; ScaleAlong: the factor. One (every row) or one per row.
  std::vector<double> values;
  // Replace: float32 activations of this hook's full shape (as the cache records it).
  HostTensor source;
  // SaeFeatures: the SAE (its d_in = the last axis) and the feature edits, applied in order.
  // keep_error false: the activation becomes the edited reconstruction, without the SAE's error.
  std::shared_ptr<const analysis::Sae> sae;
  std::vector<FeatureEdit> features;
  bool keep_error = true;

  static Edit add(std::string hook, HostTensor vector, Positions positions = {});
  static Edit set_along(std::string hook, HostTensor direction, std::vector<double> values,
                        Positions positions = {});
  static Edit scale_along(std::string hook, HostTensor direction, std::vector<double> factors,
                          Positions positions = {});
  static Edit replace(std::string hook, HostTensor source, Positions positions = {});
  static Edit sae_features(std::string hook, std::shared_ptr<const analysis::Sae> sae,
                           std::vector<FeatureEdit> features, Positions positions = {});
};

}  // namespace othrun::gpt
