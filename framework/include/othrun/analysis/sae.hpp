// Sparse autoencoders as the originals run them: the `sae_training` fork's files (torch.save of
// {"cfg": dataclass, "state_dict": {...}}) and SAELens folders (cfg.json +
// sae_weights.safetensors). docs/analyses.md ("SAE files") has the formulas and lists what is
// supported.
#pragma once

#include <othrun/analysis/sparse.hpp>
#include <othrun/ranks.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace othrun::analysis {

enum class SaeArchitecture { Standard, TopK, JumpReLU, Gated };
const char* to_string(SaeArchitecture architecture);

struct Sae {
  SaeArchitecture architecture = SaeArchitecture::Standard;
  std::string format;     // "sae_training" or "saelens"
  std::string hook_name;  // the hook it was trained on, "" when the file does not say
  std::int64_t d_in = 0;
  std::int64_t d_sae = 0;
  std::int64_t k = 0;                       // TopK only
  bool apply_b_dec_to_input = true;         // sae_training always subtracts b_dec
  std::vector<float> W_enc;                 // [d_in, d_sae], row-major
  std::vector<float> b_enc;                 // [d_sae] (Gated: unused, b_gate/b_mag instead)
  std::vector<float> W_dec;                 // [d_sae, d_in]
  std::vector<float> b_dec;                 // [d_in]
  std::vector<float> threshold;             // JumpReLU [d_sae]
  std::vector<float> b_gate, b_mag, r_mag;  // Gated [d_sae]

  // Checks every tensor's size against d_in/d_sae; throws othrun::DataError naming `source`.
  void check(const std::string& source) const;

  // Feature activations of `rows` inputs x [rows, d_in] into acts [rows, d_sae].
  void encode(const float* x, std::int64_t rows, float* acts) const;
  // Reconstructions acts @ W_dec + b_dec into out [rows, d_in].
  void decode(const float* acts, std::int64_t rows, float* out) const;
};

// A file: sae_training; a folder: SAELens. Throws othrun::DataError naming the file and the cause
// (missing tensor, wrong shape, unsupported architecture or normalize_activations).
Sae load_sae(const std::filesystem::path& path);
Sae load_sae_training(const std::filesystem::path& file);
Sae load_saelens(const std::filesystem::path& folder);

// Reconstruction metrics, accumulated chunk by chunk (double sums).
class SaeMetrics {
 public:
  explicit SaeMetrics(std::int64_t d_in, std::int64_t d_sae);
  // One batch: inputs x, reconstructions out [rows, d_in], activations (sparse). The sae_training
  // MSE normalises by ||x - mean_batch(x)|| per row, with this call's rows as the batch.
  void consume(const float* x, const float* out, const SparseRows& acts);
  // Adds `right`'s rows (BlockTree: the result is the same for any number of ranks).
  void merge(const SaeMetrics& right);
  void save(ByteWriter& out) const;
  static SaeMetrics load(ByteReader& in);

  std::uint64_t rows() const { return rows_; }
  double mse() const;                 // mean over rows and dims of (out - x)^2
  double mse_sae_training() const;    // mean of (out - x)^2 / ||x - mean_batch(x)||, batch-weighted
  double explained_variance() const;  // 1 - sum (x - out)^2 / sum (x - mean(x))^2
  double l0() const;                  // mean number of non-zero features per row
  std::int64_t dead_features() const;  // features that never fired
  const std::vector<std::uint64_t>& fired() const { return fired_; }
  std::vector<double> density() const;  // fired / rows per feature

 private:
  std::int64_t d_in_;
  std::uint64_t rows_ = 0, nnz_ = 0;
  double sq_err_ = 0, sae_training_sum_ = 0;
  std::vector<double> sum_x_, sum_xx_;
  std::vector<std::uint64_t> fired_;
};

}  // namespace othrun::analysis
