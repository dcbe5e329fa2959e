// The patching sweep: clean and corrupted runs once per chunk of pairs, then batched corrupted
// runs with one clean activation patched in per (pair, layer, position) or (pair, layer, head).
#pragma once

#include "metric.hpp"
#include "pairs.hpp"

#include <othrun/torch/hooked_transformer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace othrun::patching {

// What is patched. The [layer, position] kinds patch one position of one hook; head_out patches
// one head's attention output (blocks.L.attn.hook_z of that head, before W_O) at every position.
inline const std::vector<std::string>& patch_kinds() {
  static const std::vector<std::string> kinds{"resid_pre", "resid_mid", "resid_post",
                                              "attn_out",  "mlp_out",   "head_out"};
  return kinds;
}
bool is_head_kind(const std::string& kind);
// blocks.L.hook_resid_pre, ..., blocks.L.attn.hook_z for head_out.
std::string patch_hook(const std::string& kind, std::int64_t layer);

struct SweepSpec {
  std::vector<std::string> kinds;
  std::vector<std::int64_t> layers;
  MetricKind metric = MetricKind::LogitDiff;
  std::int64_t batch_rows = 100;       // patched sequences per forward
  std::uint64_t pairs_per_chunk = 20;  // pairs whose clean activations are held at once
  // Start each patched run at the patched layer from the corrupted run's blocks.L.hook_resid_pre
  // (layers before it are the corrupted run's anyway). Off: every patched run starts at the
  // embedding, as TransformerLens' run_with_hooks does.
  bool skip_unpatched_layers = true;
};

struct SweepResult {
  std::int64_t n_positions = 0;          // model positions run: max metric position + 1
  std::vector<double> clean, corrupted;  // metric per pair
  // kind -> metric after patching, [pairs, layers, n_positions] or [pairs, layers, n_heads]
  std::map<std::string, std::vector<double>> patched;
  double seconds_forward = 0;
  std::uint64_t patched_runs = 0;  // sequences run with a patch
};

using ProgressFn = std::function<void(std::uint64_t pairs_done)>;

SweepResult run_sweep(const gpt::HookedTransformer& model, const std::vector<GamePair>& pairs,
                      const SweepSpec& spec, const ProgressFn& progress = {});

}  // namespace othrun::patching
