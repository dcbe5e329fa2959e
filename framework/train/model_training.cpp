// The Othello-GPT training loop. Everything that decides the weights is deterministic given the
// options (weights from SplitMix64, games from the seeded stream, no dropout, shard gradients
// summed in shard order with kernels on one thread each), so a run resumed from a checkpoint ends
// with the same weights as an uninterrupted one, and the thread count changes no bit.
#include <othrun/train/model_training.hpp>

#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>
#include <othrun/pth.hpp>
#include <othrun/torch_bridge.hpp>
#include <othrun/train/checkpoint_file.hpp>
#include <othrun/train/gpt.hpp>
#include <othrun/train/optim.hpp>
#include <othrun/train/synthetic.hpp>

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "worker_pool.hpp"

namespace othrun::train {

std::string ModelTrainingOptions::fingerprint() const {
  return fmt::format(
      "model[{}] seed={} full={} batch={} shards={} steps={} lr={} warmup={} decay={} final={} "
      "betas={},{} eps={} wd={} clip={} init={} from={}",
      model.to_string(), seed, full_games_only, batch_games, batch_shards, steps, schedule.lr,
      schedule.warmup_steps, static_cast<int>(schedule.decay), schedule.final_fraction, beta1,
      beta2, adam_eps, weight_decay, grad_clip, init_std, init_from.string());
}

namespace {

at::Tensor tokens_tensor(const GameRows& rows) {
  return at::from_blob(const_cast<std::int64_t*>(rows.tokens.data()), {rows.count, 60}, at::kLong)
      .clone();
}

class Evaluator {
 public:
  Evaluator(std::uint64_t seed, bool full_only, std::int64_t games)
      : rows_(GameStream(seed, full_only).draw(0, games)) {}

  // Batches run in parallel on `pool`; their results are combined in batch order.
  EvalResult run(const Gpt& model, std::int64_t batch_games, WorkerPool& pool) const {
    const at::Tensor all = tokens_tensor(rows_);
    struct Batch {
      double loss_sum = 0;
      std::int64_t targets = 0;
      std::vector<std::int64_t> predicted;
    };
    std::vector<Batch> batches(
        static_cast<std::size_t>((rows_.count + batch_games - 1) / batch_games));
    pool.run(static_cast<std::int64_t>(batches.size()), [&](std::int64_t b) {
      at::NoGradGuard no_grad;
      const std::int64_t first = b * batch_games;
      const at::Tensor tokens = all.narrow(0, first, std::min(batch_games, rows_.count - first));
      const LossAndLogits out = next_move_loss(model, tokens);
      Batch& batch = batches[static_cast<std::size_t>(b)];
      batch.targets = next_move_targets(model, tokens);
      batch.loss_sum = out.loss.item<double>() * static_cast<double>(batch.targets);
      const at::Tensor argmax = out.logits.argmax(-1).contiguous();
      batch.predicted.assign(argmax.data_ptr<std::int64_t>(),
                             argmax.data_ptr<std::int64_t>() + argmax.numel());
    });
    std::vector<std::int64_t> predicted;
    double loss_sum = 0;
    std::int64_t targets = 0;
    for (const Batch& batch : batches) {
      loss_sum += batch.loss_sum;
      targets += batch.targets;
      predicted.insert(predicted.end(), batch.predicted.begin(), batch.predicted.end());
    }
    const std::int64_t n_pos = std::min<std::int64_t>(59, model.config().n_ctx);
    const LegalCount legal = count_legal_top1(rows_.tokens, predicted, n_pos);
    return {legal.rate(), targets > 0 ? loss_sum / static_cast<double>(targets) : 0.0, legal.total};
  }

 private:
  GameRows rows_;
};

// Matrices (embeddings included) get weight decay; biases and LayerNorm weights do not.
std::vector<bool> decay_flags(const Gpt& model) {
  std::vector<bool> flags;
  for (const auto& p : model.params()) flags.push_back(p.dim() >= 2);
  return flags;
}

template <class T>
HostTensor vector_tensor(const std::vector<T>& values) {
  return HostTensor::from_values<T>({static_cast<std::int64_t>(values.size())}, values);
}

Gpt initial_model(const ModelTrainingOptions& o) {
  if (o.init_from.empty()) return Gpt(o.model, o.seed, o.init_std);
  return Gpt(o.model, load_pth(o.init_from).tensors, o.init_from.string());
}

class Trainer {
 public:
  explicit Trainer(const ModelTrainingOptions& options)
      : o_(options),
        pool_(std::max(1, options.threads)),
        model_(initial_model(options)),
        adam_(model_.params(),
              {options.beta1, options.beta2, options.adam_eps, options.weight_decay},
              decay_flags(model_)),
        stream_(options.seed, options.full_games_only),
        evaluator_(options.eval_seed, options.full_games_only, options.eval_games) {
    schedule_ = options.schedule;
    schedule_.total_steps = options.steps;
    model_.set_requires_grad(true);
    if (options.batch_shards < 1 || options.batch_games < 1) {
      throw Error(
          fmt::format("train_model: batch_games and batch_shards must be at least 1 (got {} "
                      "and {})",
                      options.batch_games, options.batch_shards));
    }
    const std::int64_t shards = std::min(options.batch_shards, options.batch_games);
    for (std::int64_t s = 0; s < shards; ++s) {
      replicas_.push_back(model_.leaves_sharing_weights());
      replica_params_.push_back(replicas_.back().params());
    }
    if (pool_.threads() > shards) {
      log::info("train_model: {} threads for {} shards per batch: {} of them idle in training",
                pool_.threads(), shards, pool_.threads() - shards);
    }
  }

  // `steps` training steps, nothing else (throughput measurement).
  void train_steps(std::int64_t steps) {
    for (std::int64_t i = 0; i < steps; ++i) train_step();
  }

  ModelTrainingResult run() {
    resume();
    Progress progress("train_model", static_cast<std::uint64_t>(o_.steps), "steps");
    progress.advance(static_cast<std::uint64_t>(step_));
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t first_step = step_;
    for (; step_ < o_.steps; progress.advance()) {
      if (o_.stop_after >= 0 && step_ >= o_.stop_after) return finish(false, first_step, start);
      train_step();
      if (step_ == o_.steps) break;
      if (o_.eval_every > 0 && step_ % o_.eval_every == 0) evaluate();
      if (!o_.checkpoint_dir.empty() && o_.checkpoint_every > 0 &&
          step_ % o_.checkpoint_every == 0) {
        save();
      }
    }
    return finish(true, first_step, start);
  }

 private:
  void train_step() {
    const GameRows rows = stream_.draw(cursor_, o_.batch_games);
    cursor_ = rows.next_cursor;
    const double loss = gradients(tokens_tensor(rows));
    const double grad_norm = clip_grad_norm(model_.params(), o_.grad_clip);
    const double lr = schedule_.at(step_);
    adam_.step(lr);
    ++step_;
    if (step_ % std::max<std::int64_t>(1, o_.log_every) == 0 || step_ == o_.steps) {
      curves_.step.push_back(step_);
      curves_.loss.push_back(loss);
      curves_.lr.push_back(lr);
      curves_.grad_norm.push_back(grad_norm);
      log::info("train_model: step {}/{} loss {:.4f} lr {:.3g} grad norm {:.3g}", step_, o_.steps,
                curves_.loss.back(), lr, grad_norm);
    }
  }

  // The batch's mean next-move loss, and its gradient in model_'s .grad: each shard's gradient of
  // (its summed loss / the batch's target count), computed on the pool, added in shard order.
  double gradients(const at::Tensor& tokens) {
    const auto shards = static_cast<std::int64_t>(replicas_.size());
    const auto targets = static_cast<double>(next_move_targets(model_, tokens));
    std::vector<double> losses(static_cast<std::size_t>(shards));
    pool_.run(shards, [&](std::int64_t s) {
      const std::int64_t first = s * o_.batch_games / shards;
      const std::int64_t end = (s + 1) * o_.batch_games / shards;
      const auto index = static_cast<std::size_t>(s);
      for (at::Tensor& p : replica_params_[index]) p.mutable_grad() = at::Tensor();
      const at::Tensor loss =
          next_move_loss_sum(replicas_[index], tokens.narrow(0, first, end - first)) / targets;
      loss.backward();
      losses[index] = loss.item<double>();
    });
    const std::vector<at::Tensor> params = model_.params();
    pool_.run(static_cast<std::int64_t>(params.size()), [&](std::int64_t i) {
      at::NoGradGuard no_grad;
      at::Tensor sum;
      for (const auto& replica : replica_params_) {
        const at::Tensor& grad = replica[static_cast<std::size_t>(i)].grad();
        if (!grad.defined()) continue;
        if (sum.defined()) {
          sum.add_(grad);
        } else {
          sum = grad.clone();
        }
      }
      params[static_cast<std::size_t>(i)].mutable_grad() = sum;
    });
    double loss = 0;
    for (const double l : losses) loss += l;
    return loss;
  }

  EvalResult evaluate() {
    const EvalResult r = evaluator_.run(model_, o_.eval_batch_games, pool_);
    curves_.eval_step.push_back(step_);
    curves_.eval_legal_rate.push_back(r.legal_rate);
    curves_.eval_loss.push_back(r.loss);
    log::info("train_model: step {} held-out loss {:.4f}, top-1 legal {:.2f}% ({} positions)",
              step_, r.loss, 100 * r.legal_rate, r.positions);
    return r;
  }

  void save() {
    TrainCheckpoint c{o_.fingerprint(), step_, cursor_, {}};
    for (std::size_t i = 0; i < model_.names().size(); ++i) {
      const std::string& name = model_.names()[i];
      c.tensors.push_back({"model." + name, from_torch(model_.param(name).detach().clone())});
      c.tensors.push_back({"exp_avg." + name, from_torch(adam_.exp_avg()[i].clone())});
      c.tensors.push_back({"exp_avg_sq." + name, from_torch(adam_.exp_avg_sq()[i].clone())});
    }
    c.tensors.push_back({"curve.step", vector_tensor(curves_.step)});
    c.tensors.push_back({"curve.loss", vector_tensor(curves_.loss)});
    c.tensors.push_back({"curve.lr", vector_tensor(curves_.lr)});
    c.tensors.push_back({"curve.grad_norm", vector_tensor(curves_.grad_norm)});
    c.tensors.push_back({"curve.eval_step", vector_tensor(curves_.eval_step)});
    c.tensors.push_back({"curve.eval_legal_rate", vector_tensor(curves_.eval_legal_rate)});
    c.tensors.push_back({"curve.eval_loss", vector_tensor(curves_.eval_loss)});
    save_checkpoint(o_.checkpoint_dir, c);
    prune_checkpoints(o_.checkpoint_dir, o_.keep_checkpoints);
  }

  void resume() {
    if (o_.checkpoint_dir.empty()) return;
    const auto c = load_latest_checkpoint(o_.checkpoint_dir, o_.fingerprint());
    if (!c) return;
    at::NoGradGuard no_grad;
    auto tensor = [&](const std::string& name) {
      const HostTensor* t = find_tensor(c->tensors, name);
      if (!t) throw Error("checkpoint of step " + std::to_string(c->step) + " lacks " + name);
      return *t;
    };
    for (std::size_t i = 0; i < model_.names().size(); ++i) {
      const std::string& name = model_.names()[i];
      model_.param(name).copy_(to_torch(tensor("model." + name)));
      adam_.exp_avg()[i].copy_(to_torch(tensor("exp_avg." + name)));
      adam_.exp_avg_sq()[i].copy_(to_torch(tensor("exp_avg_sq." + name)));
    }
    curves_.step = tensor("curve.step").to_vector<std::int64_t>();
    curves_.loss = tensor("curve.loss").to_vector<double>();
    curves_.lr = tensor("curve.lr").to_vector<double>();
    curves_.grad_norm = tensor("curve.grad_norm").to_vector<double>();
    curves_.eval_step = tensor("curve.eval_step").to_vector<std::int64_t>();
    curves_.eval_legal_rate = tensor("curve.eval_legal_rate").to_vector<double>();
    curves_.eval_loss = tensor("curve.eval_loss").to_vector<double>();
    step_ = resumed_from_ = c->step;
    cursor_ = c->cursor;
    adam_.set_steps(c->step);
    log::info("train_model: resumed from {} (step {})",
              checkpoint_path(o_.checkpoint_dir, c->step).string(), c->step);
  }

  ModelTrainingResult finish(bool complete, std::int64_t first_step,
                             std::chrono::steady_clock::time_point start) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ModelTrainingResult r;
    r.complete = complete;
    if (complete) {
      const EvalResult e = evaluate();
      r.final_legal_rate = e.legal_rate;
      r.final_eval_loss = e.loss;
    }
    r.state = model_.state_dict();
    r.curves = curves_;
    r.steps_done = step_;
    r.resumed_from = resumed_from_;
    r.games_drawn = cursor_;
    const double tokens = static_cast<double>((step_ - first_step) * o_.batch_games * 59);
    r.tokens_per_second = seconds > 0 ? tokens / seconds : 0;
    return r;
  }

  const ModelTrainingOptions& o_;
  WorkerPool pool_;  // before the tensors: they are made with single-threaded kernels
  Gpt model_;
  std::vector<Gpt> replicas_;  // one per shard, on model_'s weights, each with its own gradients
  std::vector<std::vector<at::Tensor>> replica_params_;
  Adam adam_;
  GameStream stream_;
  Evaluator evaluator_;
  Schedule schedule_;
  Curves curves_;
  std::int64_t step_ = 0, resumed_from_ = 0;
  std::uint64_t cursor_ = 0;
};

}  // namespace

ModelTrainingResult train_model(const ModelTrainingOptions& options) {
  if (options.seed == options.eval_seed) {
    throw Error("train_model: the held-out games need a seed other than the training seed");
  }
  return Trainer(options).run();
}

EvalResult evaluate_state(const gpt::ModelConfig& config, const std::vector<NamedTensor>& state,
                          std::uint64_t seed, bool full_games_only, std::int64_t games,
                          int threads) {
  WorkerPool pool(std::max(1, threads));
  const Gpt model(config, state, "evaluate_state");
  return Evaluator(seed, full_games_only, games).run(model, 200, pool);
}

Throughput measure_throughput(const ModelTrainingOptions& options, std::int64_t steps) {
  Trainer trainer(options);
  trainer.train_steps(1);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  trainer.train_steps(steps);
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto n = static_cast<double>(steps);
  return {n * static_cast<double>(options.batch_games * 59) / seconds, cpu_seconds / n};
}

}  // namespace othrun::train
