// The othello_world linear probe (docs/analyses.md): [3 modes, d_model, 8, 8, 3 options],
// modes 0 black to play, 1 white to play, 2 all; options 0 empty, 1 white, 2 black. Each mode is
// trained on its rows with per-square cross-entropy and AdamW. No LibTorch in this header.
#pragma once

#include <cstdint>
#include <vector>

namespace othrun::train {

struct ProbeTrainingOptions {
  std::int64_t d_model = 0;
  double lr = 1e-3, weight_decay = 0.01, beta1 = 0.9, beta2 = 0.99;
  std::int64_t steps = 1000, batch_rows = 1024;
  std::uint64_t seed = 0;
  int threads = 1;
};

// x: [rows, d_model]; options: [rows, 64] in {0, 1, 2}; mode: [rows] 0 (black to play), 1 (white
// to play) or -1 (game over: used by mode 2 only). Returns the probe [3, d_model, 8, 8, 3].
std::vector<float> train_probe(const std::vector<float>& x,
                               const std::vector<std::uint8_t>& options,
                               const std::vector<std::int8_t>& mode, const ProbeTrainingOptions& o);

// Per-square accuracy [3 modes, 64] on the rows of each mode (NaN where a mode has no rows).
std::vector<double> probe_accuracy(const std::vector<float>& probe, std::int64_t d_model,
                                   const std::vector<float>& x,
                                   const std::vector<std::uint8_t>& options,
                                   const std::vector<std::int8_t>& mode);

}  // namespace othrun::train
