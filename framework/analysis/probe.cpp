// Probe collapse exactly as the notebooks (docs/analyses.md, "The linear probe").
#include <othrun/analysis/probe.hpp>

#include <othrun/analysis/gemm.hpp>
#include <othrun/error.hpp>
#include <othrun/finite.hpp>
#include <othrun/pth.hpp>

#include <cmath>

namespace othrun::analysis {

Probe collapse_probe(const HostTensor& full, bool normalise) {
  const auto& s = full.shape();
  if (s.size() != 5 || s[0] < 2 || s[2] != 8 || s[3] != 8 || s[4] != 3) {
    throw DataError("probe tensor has shape " + shape_string(s) +
                    ", expected [modes=3, d_model, 8, 8, options=3]");
  }
  const std::vector<float> p = full.to_vector<float>();
  Probe probe;
  probe.d_model = s[1];
  probe.normalised = normalise;
  const std::int64_t d_model = probe.d_model;
  // P[mode, d, square, option] in the contiguous copy.
  auto at = [&](std::int64_t mode, std::int64_t d, std::int64_t sq, int option) {
    return p[static_cast<std::size_t>(((mode * d_model + d) * 64 + sq) * 3 + option)];
  };
  constexpr int kBlackToPlay = 0, kWhiteToPlay = 1;  // full options: 0 empty, 1 white, 2 black
  probe.weights.resize(static_cast<std::size_t>(d_model * 64 * 3));
  probe.blank_dir.resize(static_cast<std::size_t>(d_model * 64));
  probe.mine_dir.resize(probe.blank_dir.size());
  for (std::int64_t d = 0; d < d_model; ++d) {
    for (std::int64_t sq = 0; sq < 64; ++sq) {
      const float blank = 0.5f * (at(kBlackToPlay, d, sq, 0) + at(kWhiteToPlay, d, sq, 0));
      const float theirs = 0.5f * (at(kBlackToPlay, d, sq, 1) + at(kWhiteToPlay, d, sq, 2));
      const float mine = 0.5f * (at(kBlackToPlay, d, sq, 2) + at(kWhiteToPlay, d, sq, 1));
      const auto i = static_cast<std::size_t>(d * 64 + sq);
      probe.weights[i * 3 + kProbeBlank] = blank;
      probe.weights[i * 3 + kProbeTheirs] = theirs;
      probe.weights[i * 3 + kProbeMine] = mine;
      probe.blank_dir[i] = blank - theirs * 0.5f - mine * 0.5f;
      probe.mine_dir[i] = mine - theirs;
    }
  }
  if (normalise) {
    for (auto* dir : {&probe.blank_dir, &probe.mine_dir}) {
      for (std::int64_t sq = 0; sq < 64; ++sq) {
        double norm = 0;
        for (std::int64_t d = 0; d < d_model; ++d)
          norm += std::pow((*dir)[static_cast<std::size_t>(d * 64 + sq)], 2);
        const double scale = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
        for (std::int64_t d = 0; d < d_model; ++d) {
          auto& v = (*dir)[static_cast<std::size_t>(d * 64 + sq)];
          v = static_cast<float>(v * scale);
        }
      }
    }
  }
  return probe;
}

Probe load_probe(const std::filesystem::path& path, bool normalise) {
  const PthFile file = load_pth(path);
  if (file.tensors.size() != 1) {
    throw DataError(path.string() + ": expected one probe tensor, found " +
                    std::to_string(file.tensors.size()));
  }
  const NamedTensor& tensor = file.tensors.front();
  warn_non_finite(tensor.tensor, tensor.name.empty() ? "(the probe)" : tensor.name, path.string());
  try {
    return collapse_probe(file.tensors.front().tensor, normalise);
  } catch (const DataError& e) {
    throw DataError(path.string() + ": " + e.what());
  }
}

void probe_scores(const Probe& probe, const float* x, std::int64_t rows, float* scores) {
  gemm(rows, 64 * 3, probe.d_model, x, probe.weights.data(), scores);
}

}  // namespace othrun::analysis
