// SAE training on ATen, following sae_training's SparseAutoencoder.forward and its training loop
// (ghost grads, decoder-norm handling) step for step; see sae_training.hpp.
#include <othrun/train/sae_training.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/othello.hpp>
#include <othrun/progress.hpp>
#include <othrun/train/optim.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

namespace othrun::train {

namespace {

// Uniform(-bound, bound) from SplitMix64: torch's kaiming_uniform_ bound for fan_in.
at::Tensor kaiming_uniform(othello::SplitMix64& rng, std::int64_t rows, std::int64_t cols) {
  const double bound = std::sqrt(6.0 / static_cast<double>(cols));
  std::vector<float> v(static_cast<std::size_t>(rows * cols));
  for (auto& x : v)
    x = static_cast<float>((static_cast<double>(rng.next() >> 11) * 0x1.0p-53 * 2 - 1) * bound);
  return at::from_blob(v.data(), {rows, cols}, at::kFloat).clone();
}

std::vector<float> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// The sum of squares of x - mean_batch(x) per row, square-rooted: sae_training's MSE normaliser.
at::Tensor centred_norm(const at::Tensor& x) {
  return (x - x.mean(0, true)).pow(2).sum(-1, true).sqrt();
}

struct Sae {
  at::Tensor W_enc, b_enc, W_dec, b_dec;
  std::vector<at::Tensor> params() const { return {W_enc, b_enc, W_dec, b_dec}; }
};

struct StepLosses {
  at::Tensor loss, mse, l1, ghost, acts;
};

class SaeTrainer {
 public:
  SaeTrainer(const std::vector<float>& data, std::int64_t rows, const SaeTrainingOptions& o)
      : o_(o), rows_(rows), rng_(o.seed) {
    data_ = at::from_blob(const_cast<float*>(data.data()), {rows, o.d_in}, at::kFloat);
    init();
    adam_.emplace(sae_.params(), AdamOptions{o.beta1, o.beta2, 1e-8, 0.0});
    since_fired_ = at::zeros({o.d_sae}, at::kLong);
    window_fired_ = at::zeros({o.d_sae}, at::kDouble);
  }

  SaeTrainingResult run() {
    SaeTrainingResult r;
    Progress progress("train_sae", static_cast<std::uint64_t>(o_.steps), "steps");
    for (std::int64_t step = 0; step < o_.steps; ++step, progress.advance()) {
      const at::Tensor x = next_batch();
      const at::Tensor dead = since_fired_.gt(o_.dead_feature_window);
      const bool ghost = o_.ghost_grads && o_.architecture == "standard" && dead.any().item<bool>();
      r.ghost_steps += ghost ? 1 : 0;
      const StepLosses l = forward(x, ghost ? dead : at::Tensor());
      adam_->zero_grad();
      l.loss.backward();
      remove_parallel_gradient();
      const double lr =
          o_.lr *
          std::min(1.0, static_cast<double>(step + 1) /
                            static_cast<double>(std::max<std::int64_t>(1, o_.warmup_steps)));
      adam_->step(lr);
      normalise_decoder();
      track_firing(l.acts, step, r);
      if ((step + 1) % std::max<std::int64_t>(1, o_.log_every) == 0 || step + 1 == o_.steps)
        log_step(step + 1, l, r);
    }
    r.weights = {o_.d_in,
                 o_.d_sae,
                 to_vector(sae_.W_enc),
                 to_vector(sae_.b_enc),
                 to_vector(sae_.W_dec),
                 to_vector(sae_.b_dec)};
    return r;
  }

 private:
  void init() {
    sae_.W_dec = kaiming_uniform(rng_, o_.d_sae, o_.d_in);
    sae_.W_dec = sae_.W_dec / sae_.W_dec.norm(2, {1}, true);
    sae_.W_enc = kaiming_uniform(rng_, o_.d_in, o_.d_sae);
    sae_.b_enc = at::zeros({o_.d_sae}, at::kFloat);
    sae_.b_dec = at::zeros({o_.d_in}, at::kFloat);
    if (o_.geometric_median_rows > 0) {
      const std::int64_t n = std::min(o_.geometric_median_rows, rows_);
      const at::Tensor sample = data_.narrow(0, 0, n).contiguous();  // rows are shuffled upstream
      const auto median =
          geometric_median(sample.data_ptr<float>(), n, o_.d_in, o_.geometric_median_iterations);
      sae_.b_dec = at::from_blob(const_cast<float*>(median.data()), {o_.d_in}, at::kFloat).clone();
    }
    for (auto* p : {&sae_.W_enc, &sae_.b_enc, &sae_.W_dec, &sae_.b_dec}) p->requires_grad_(true);
  }

  // The next batch_rows rows of a seeded permutation, reshuffled at every epoch.
  at::Tensor next_batch() {
    std::vector<std::int64_t> index(static_cast<std::size_t>(o_.batch_rows));
    for (auto& i : index) {
      if (cursor_ >= order_.size()) reshuffle();
      i = order_[cursor_++];
    }
    return data_.index_select(0, at::from_blob(index.data(), {o_.batch_rows}, at::kLong));
  }

  void reshuffle() {
    order_.resize(static_cast<std::size_t>(rows_));
    std::iota(order_.begin(), order_.end(), 0);
    for (std::size_t i = order_.size(); i > 1; --i) {
      std::swap(order_[i - 1], order_[rng_.below(static_cast<std::uint32_t>(i))]);
    }
    cursor_ = 0;
  }

  at::Tensor activations(const at::Tensor& hidden_pre) const {
    if (o_.architecture != "topk") return at::relu(hidden_pre);
    const auto top = hidden_pre.topk(std::min(o_.k, o_.d_sae), -1);
    return at::zeros_like(hidden_pre).scatter(-1, std::get<1>(top), at::relu(std::get<0>(top)));
  }

  StepLosses forward(const at::Tensor& x, const at::Tensor& dead) const {
    const at::Tensor hidden_pre = at::addmm(sae_.b_enc, x - sae_.b_dec, sae_.W_enc);
    const at::Tensor acts = activations(hidden_pre);
    const at::Tensor out = at::addmm(sae_.b_dec, acts, sae_.W_dec);
    const at::Tensor mse_rows = (out - x).pow(2) / centred_norm(x);
    const at::Tensor mse = mse_rows.mean();
    StepLosses l;
    l.mse = mse;
    l.l1 = o_.architecture == "topk" ? at::zeros({}, at::kFloat)
                                     : o_.l1_coefficient * acts.abs().sum(1).mean();
    l.ghost =
        dead.defined() ? ghost_loss(x, out, hidden_pre, dead, mse_rows) : at::zeros({}, at::kFloat);
    l.loss = mse + l.l1 + l.ghost;
    l.acts = acts.detach();
    return l;
  }

  // sae_training's ghost grads: the dead features' exp(pre-activations) decode into a stand-in
  // for the residual error, scaled to half its norm; its MSE, rescaled to the MSE, joins the loss.
  at::Tensor ghost_loss(const at::Tensor& x, const at::Tensor& out, const at::Tensor& hidden_pre,
                        const at::Tensor& dead, const at::Tensor& mse_rows) const {
    const at::Tensor residual = x - out;
    const at::Tensor dead_index = dead.nonzero().squeeze(1);
    at::Tensor ghost_out = at::matmul(hidden_pre.index_select(1, dead_index).exp(),
                                      sae_.W_dec.index_select(0, dead_index));
    const at::Tensor scale = residual.norm(2, {-1}) / (1e-6 + ghost_out.norm(2, {-1}) * 2);
    ghost_out = ghost_out * scale.unsqueeze(1).detach();
    const at::Tensor ghost_rows =
        (ghost_out - residual.detach()).pow(2) / centred_norm(residual.detach());
    const at::Tensor rescale = (mse_rows / (ghost_rows + 1e-6)).detach();
    return (rescale * ghost_rows).mean();
  }

  void remove_parallel_gradient() {
    at::NoGradGuard no_grad;
    at::Tensor grad = sae_.W_dec.mutable_grad();
    if (!grad.defined()) return;
    const at::Tensor parallel = (grad * sae_.W_dec).sum(1, true);
    grad.sub_(parallel * sae_.W_dec);
  }

  void normalise_decoder() {
    at::NoGradGuard no_grad;
    sae_.W_dec.div_(sae_.W_dec.norm(2, {1}, true));
  }

  void track_firing(const at::Tensor& acts, std::int64_t step, SaeTrainingResult& r) {
    const at::Tensor fired = acts.gt(0).any(0);
    since_fired_ = at::where(fired, at::zeros_like(since_fired_), since_fired_ + 1);
    window_fired_ += acts.gt(0).sum(0).to(at::kDouble);
    window_rows_ += o_.batch_rows;
    if ((step + 1) % std::max<std::int64_t>(1, o_.feature_sampling_window) == 0 ||
        step + 1 == o_.steps) {
      const at::Tensor density = (window_fired_ / static_cast<double>(window_rows_)).contiguous();
      r.last_window_density.assign(density.data_ptr<double>(),
                                   density.data_ptr<double>() + density.numel());
      window_fired_.zero_();
      window_rows_ = 0;
    }
  }

  void log_step(std::int64_t step, const StepLosses& l, SaeTrainingResult& r) const {
    r.step.push_back(step);
    r.loss.push_back(l.loss.item<double>());
    r.mse.push_back(l.mse.item<double>());
    r.l1.push_back(l.l1.item<double>());
    r.ghost.push_back(l.ghost.item<double>());
    r.l0.push_back(l.acts.gt(0).sum(1).to(at::kDouble).mean().item<double>());
    log::info("train_sae: step {}/{} loss {:.4g} mse {:.4g} l1 {:.4g} ghost {:.4g} L0 {:.1f}", step,
              o_.steps, r.loss.back(), r.mse.back(), r.l1.back(), r.ghost.back(), r.l0.back());
  }

  const SaeTrainingOptions& o_;
  std::int64_t rows_;
  othello::SplitMix64 rng_;
  at::Tensor data_;
  Sae sae_;
  std::optional<Adam> adam_;
  std::vector<std::int64_t> order_;
  std::size_t cursor_ = 0;
  at::Tensor since_fired_, window_fired_;
  std::int64_t window_rows_ = 0;
};

}  // namespace

SaeTrainingResult train_sae(const std::vector<float>& data, std::int64_t rows,
                            const SaeTrainingOptions& options) {
  if (options.d_in <= 0 || options.d_sae <= 0 || rows <= 0 ||
      static_cast<std::int64_t>(data.size()) != rows * options.d_in) {
    throw Error("train_sae: data must be [rows, d_in] with rows, d_in, d_sae > 0");
  }
  if (options.architecture != "standard" && options.architecture != "topk") {
    throw Error("train_sae: unknown architecture '" + options.architecture + "'");
  }
  at::set_num_threads(std::max(1, options.threads));
  return SaeTrainer(data, rows, options).run();
}

std::vector<float> geometric_median(const float* x, std::int64_t rows, std::int64_t dim,
                                    std::int64_t iterations, double tolerance) {
  const at::Tensor points =
      at::from_blob(const_cast<float*>(x), {rows, dim}, at::kFloat).to(at::kDouble);
  at::Tensor median = points.mean(0);
  for (std::int64_t i = 0; i < iterations; ++i) {
    const at::Tensor weights = 1.0 / (points - median).norm(2, {1}).clamp_min(1e-8);
    const at::Tensor next = (weights.unsqueeze(1) * points).sum(0) / weights.sum();
    const double moved = (next - median).norm().item<double>();
    median = next;
    if (moved < tolerance) break;
  }
  const at::Tensor out = median.to(at::kFloat).contiguous();
  return {out.data_ptr<float>(), out.data_ptr<float>() + dim};
}

}  // namespace othrun::train
