// The linear board-state probe (docs/analyses.md): the full [modes=3, d_model, 8, 8,
// options=3] tensor of `main_linear_probe.pth` (options 0 empty, 1 white, 2 black; modes 0 black
// to play, 1 white to play, 2 all) collapsed to {blank, theirs, mine} and the blank/mine
// directions.
#pragma once

#include <othrun/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace othrun::analysis {

inline constexpr int kProbeBlank = 0, kProbeTheirs = 1, kProbeMine = 2;

struct Probe {
  std::int64_t d_model = 0;
  std::vector<float> weights;    // [d_model, 64, 3]: blank, theirs, mine per square
  std::vector<float> blank_dir;  // [d_model, 64]: blank - theirs/2 - mine/2
  std::vector<float> mine_dir;   // [d_model, 64]: mine - theirs
  bool normalised = false;       // directions scaled to unit norm per square

  float weight(std::int64_t d, int square, int option) const {
    return weights[static_cast<std::size_t>((d * 64 + square) * 3 + option)];
  }
};

// Collapses a full probe tensor (any float dtype) as the notebooks do; `normalise` scales each
// square's blank and mine direction to unit norm. Throws othrun::DataError on another shape.
Probe collapse_probe(const HostTensor& full, bool normalise);
// Loads a .pth holding the full tensor (the root object, or the only tensor in the file).
Probe load_probe(const std::filesystem::path& path, bool normalise);

// Per-square class scores of rows x [rows, d_model] -> [rows, 64, 3].
void probe_scores(const Probe& probe, const float* x, std::int64_t rows, float* scores);

// Directions as rows [count, dim].
struct Directions {
  std::int64_t count = 0, dim = 0;
  std::vector<float> rows;
};
// `source`: sae_decoder (W_dec rows), sae_encoder (W_enc columns) of an SAE file or folder, or
// tensor: `tensor` of a .pth, its rows (axis 0) or columns (axis 1). Throws othrun::DataError.
Directions load_directions(const std::filesystem::path& path, const std::string& source,
                           const std::string& tensor, std::int64_t axis);

}  // namespace othrun::analysis
