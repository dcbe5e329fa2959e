// Adam / AdamW as torch.optim implements them, on plain ATen tensors, plus the learning-rate
// schedule and gradient clipping. Written out here (not torch::optim) so that the optimiser state
// is three named tensors per parameter that a checkpoint saves and restores exactly, and so that
// only <ATen/ATen.h> is compiled, not <torch/torch.h>.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include <othrun/train/schedule.hpp>

namespace othrun::train {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // decoupled (AdamW): p -= lr * wd * p, on the flagged parameters
};

class Adam {
 public:
  // `decay[i]`: whether params[i] gets weight decay (empty: all do).
  Adam(std::vector<at::Tensor> params, AdamOptions options, std::vector<bool> decay = {});

  // One update with learning rate `lr` from the parameters' .grad() (parameters without a
  // gradient are skipped, as torch does). Increments step().
  void step(double lr);
  void zero_grad();

  std::int64_t steps() const { return steps_; }
  // Moments, for checkpoints: exp_avg[i], exp_avg_sq[i] belong to params[i].
  std::vector<at::Tensor>& exp_avg() { return exp_avg_; }
  std::vector<at::Tensor>& exp_avg_sq() { return exp_avg_sq_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

 private:
  std::vector<at::Tensor> params_;
  AdamOptions options_;
  std::vector<bool> decay_;
  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
  std::int64_t steps_ = 0;
};

// torch.nn.utils.clip_grad_norm_: scales every gradient by max_norm / (total L2 norm + 1e-6) when
// the norm exceeds max_norm. Returns the norm before clipping. max_norm <= 0: no clipping.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace othrun::train
