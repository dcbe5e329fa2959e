// Training sparse autoencoders with the recipe of the `sae_training` fork that made the Othello
// SAEs (docs/training.md), plus a top-k variant. No LibTorch in this header.
//
// Standard: sae_in = x - b_dec; acts = relu(sae_in @ W_enc + b_enc); out = acts @ W_dec + b_dec;
// loss = mean((out - x)^2 / ||x - mean_batch(x)||) + l1 * mean_batch(sum |acts|) [+ ghost grads].
// TopK: acts keep the k largest pre-activations (relu'd); loss is the normalised MSE alone.
// Adam(beta1, beta2), linear lr warm-up then constant; before each step the decoder gradient's
// component parallel to each row is removed, after it the rows are renormalised to unit norm.
#pragma once

#include <othrun/analysis/sae.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::train {

struct SaeTrainingOptions {
  std::int64_t d_in = 0;
  std::int64_t d_sae = 0;
  std::string architecture = "standard";  // or "topk"
  std::int64_t k = 32;                    // topk only
  double l1_coefficient = 2e-4;           // standard only
  double lr = 3e-4;
  std::int64_t warmup_steps = 0;
  std::int64_t steps = 1000;
  std::int64_t batch_rows = 4096;
  double beta1 = 0.9, beta2 = 0.99;
  bool ghost_grads = true;                     // standard only
  std::int64_t dead_feature_window = 500;      // steps without firing before ghost grads apply
  std::int64_t feature_sampling_window = 500;  // steps per recorded feature-density window
  std::int64_t geometric_median_rows = 10000;  // sample for b_dec's initialisation (0: zeros)
  std::int64_t geometric_median_iterations = 100;
  std::uint64_t seed = 0;
  std::int64_t log_every = 100;
  int threads = 1;
};

struct SaeWeights {
  std::int64_t d_in = 0, d_sae = 0;
  std::vector<float> W_enc, b_enc, W_dec, b_dec;  // [d_in, d_sae], [d_sae], [d_sae, d_in], [d_in]
};

// The trained weights as an analysis::Sae ("standard" or "topk" with `k`), for encoding and metrics
// with libothrun_analysis (header-only: othrun_train does not link it).
inline analysis::Sae to_analysis_sae(const SaeWeights& w, const std::string& architecture,
                                     std::int64_t k) {
  analysis::Sae sae;
  sae.architecture = architecture == "topk" ? analysis::SaeArchitecture::TopK
                                            : analysis::SaeArchitecture::Standard;
  sae.d_in = w.d_in;
  sae.d_sae = w.d_sae;
  sae.k = k;
  sae.W_enc = w.W_enc;
  sae.b_enc = w.b_enc;
  sae.W_dec = w.W_dec;
  sae.b_dec = w.b_dec;
  return sae;
}

struct SaeTrainingResult {
  SaeWeights weights;
  std::vector<std::int64_t> step;
  std::vector<double> loss, mse, l1, ghost, l0;  // per logged step
  std::int64_t ghost_steps = 0;                  // steps in which ghost grads were applied
  std::vector<double> last_window_density;       // [d_sae] firing rate over the last window
};

// Trains on `rows` rows of `data` ([rows, d_in] row-major): each epoch visits the rows in a
// seeded random order, batch_rows at a time.
SaeTrainingResult train_sae(const std::vector<float>& data, std::int64_t rows,
                            const SaeTrainingOptions& options);

// The geometric median of `rows` points of dimension `dim` (Weiszfeld iterations from the mean,
// distances floored at 1e-8 so that a point on the median does not divide by zero).
std::vector<float> geometric_median(const float* x, std::int64_t rows, std::int64_t dim,
                                    std::int64_t iterations, double tolerance = 1e-6);

}  // namespace othrun::train
