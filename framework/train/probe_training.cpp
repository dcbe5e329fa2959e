#include <othrun/train/probe_training.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <othrun/othello.hpp>
#include <othrun/train/optim.hpp>

#include <limits>

namespace othrun::train {

namespace {

// Row indices of `mode` (2: all rows).
std::vector<std::int64_t> rows_of(const std::vector<std::int8_t>& mode, int m) {
  std::vector<std::int64_t> rows;
  for (std::size_t r = 0; r < mode.size(); ++r) {
    if (m == 2 || mode[r] == m) rows.push_back(static_cast<std::int64_t>(r));
  }
  return rows;
}

at::Tensor probe_logits(const at::Tensor& x, const at::Tensor& W) {
  return at::matmul(x, W.reshape({W.size(0), -1})).view({x.size(0), 64, 3});
}

}  // namespace

std::vector<float> train_probe(const std::vector<float>& x_values,
                               const std::vector<std::uint8_t>& options,
                               const std::vector<std::int8_t>& mode,
                               const ProbeTrainingOptions& o) {
  at::set_num_threads(std::max(1, o.threads));
  const auto rows = static_cast<std::int64_t>(mode.size());
  const at::Tensor x =
      at::from_blob(const_cast<float*>(x_values.data()), {rows, o.d_model}, at::kFloat);
  const at::Tensor labels =
      at::from_blob(const_cast<std::uint8_t*>(options.data()), {rows, 64}, at::kByte).to(at::kLong);
  at::Tensor probe = at::zeros({3, o.d_model, 8, 8, 3}, at::kFloat);
  othello::SplitMix64 rng(o.seed);
  for (int m = 0; m < 3; ++m) {
    const std::vector<std::int64_t> subset = rows_of(mode, m);
    if (subset.empty()) continue;
    at::Tensor W = (at::randn({o.d_model, 8, 8, 3}, at::kFloat) * 0.0).requires_grad_(true);
    Adam adam({W}, {o.beta1, o.beta2, 1e-8, o.weight_decay});
    for (std::int64_t step = 0; step < o.steps; ++step) {
      std::vector<std::int64_t> pick(
          static_cast<std::size_t>(std::min<std::int64_t>(o.batch_rows, std::ssize(subset))));
      for (auto& p : pick) p = subset[rng.below(static_cast<std::uint32_t>(subset.size()))];
      const at::Tensor index = at::tensor(pick, at::kLong);
      const at::Tensor logits = probe_logits(x.index_select(0, index), W);
      const at::Tensor loss = at::cross_entropy_loss(logits.reshape({-1, 3}),
                                                     labels.index_select(0, index).reshape({-1}));
      adam.zero_grad();
      loss.backward();
      adam.step(o.lr);
    }
    probe[m].copy_(W.detach());
  }
  return {probe.data_ptr<float>(), probe.data_ptr<float>() + probe.numel()};
}

std::vector<double> probe_accuracy(const std::vector<float>& probe_values, std::int64_t d_model,
                                   const std::vector<float>& x_values,
                                   const std::vector<std::uint8_t>& options,
                                   const std::vector<std::int8_t>& mode) {
  at::NoGradGuard no_grad;
  const auto rows = static_cast<std::int64_t>(mode.size());
  const at::Tensor probe =
      at::from_blob(const_cast<float*>(probe_values.data()), {3, d_model, 8, 8, 3}, at::kFloat);
  const at::Tensor x =
      at::from_blob(const_cast<float*>(x_values.data()), {rows, d_model}, at::kFloat);
  const at::Tensor labels =
      at::from_blob(const_cast<std::uint8_t*>(options.data()), {rows, 64}, at::kByte).to(at::kLong);
  std::vector<double> out(3 * 64, std::numeric_limits<double>::quiet_NaN());
  for (int m = 0; m < 3; ++m) {
    const std::vector<std::int64_t> rows_m = rows_of(mode, m);
    if (rows_m.empty()) continue;
    const at::Tensor subset = at::tensor(rows_m, at::kLong);
    const at::Tensor correct = probe_logits(x.index_select(0, subset), probe[m])
                                   .argmax(-1)
                                   .eq(labels.index_select(0, subset))
                                   .to(at::kDouble)
                                   .mean(0)
                                   .contiguous();
    for (int s = 0; s < 64; ++s)
      out[static_cast<std::size_t>(m * 64 + s)] = correct[s].item<double>();
  }
  return out;
}

}  // namespace othrun::train
