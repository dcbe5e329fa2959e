// Training an Othello-GPT on synthetic games (docs/training.md): next-move cross-entropy, AdamW
// with warm-up and decay, gradient clipping, periodic evaluation of the top-1 legal-move rate on
// held-out games, and checkpoints that a rerun resumes from. No LibTorch in this header: plugins
// include it without compiling ATen.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>
#include <othrun/torch/model_config.hpp>
#include <othrun/train/schedule.hpp>

namespace othrun::train {

struct ModelTrainingOptions {
  gpt::ModelConfig model;
  std::uint64_t seed = 0;       // initialisation and the training game stream
  std::uint64_t eval_seed = 1;  // the held-out game stream (must differ from seed)
  bool full_games_only = true;  // train and evaluate on 60-move games only
  std::int64_t batch_games = 64;
  // Each batch is split into this many shards of consecutive games (min(batch_shards,
  // batch_games), as equal as can be), whose gradients are computed in parallel, one shard per
  // thread at a time, and summed in shard order. The weights depend on the shards, never on the
  // thread count; more threads than shards leave the rest idle.
  std::int64_t batch_shards = 8;
  std::int64_t steps = 1000;
  Schedule schedule;  // schedule.total_steps is set to steps
  double beta1 = 0.9, beta2 = 0.99, adam_eps = 1e-8, weight_decay = 0.01;
  double grad_clip = 1.0;  // max global gradient norm; <= 0 disables
  double init_std = 0.02;
  // Start from these weights (a TransformerLens state dict .pth of the same config, LN unfolded,
  // e.g. an earlier train_model output) instead of a random initialisation; AdamW starts fresh.
  std::filesystem::path init_from;
  std::int64_t log_every = 10;
  std::int64_t eval_every = 100;  // and always at the end; <= 0: only at the end
  std::int64_t eval_games = 200;
  std::int64_t eval_batch_games = 200;
  std::filesystem::path checkpoint_dir;  // empty: no checkpoints
  std::int64_t checkpoint_every = 100;
  std::int64_t keep_checkpoints = 2;
  std::int64_t stop_after = -1;  // tests: return (as if killed) after this many steps in total
  int threads = 1;               // not in the fingerprint: the weights are the same for any count

  // A text of every field that changes the trained weights: checkpoints carry it, and a rerun
  // resumes only from a checkpoint with the same fingerprint.
  std::string fingerprint() const;
};

struct Curves {
  std::vector<std::int64_t> step;  // logged training steps (1-based: after that many updates)
  std::vector<double> loss, lr, grad_norm;
  std::vector<std::int64_t> eval_step;
  std::vector<double> eval_legal_rate, eval_loss;
};

struct ModelTrainingResult {
  std::vector<NamedTensor> state;  // TransformerLens state dict (float32)
  Curves curves;
  std::int64_t steps_done = 0;
  std::int64_t resumed_from = 0;  // step of the checkpoint resumed from, 0 when fresh
  bool complete = false;          // false only when stop_after cut the run short
  std::uint64_t games_drawn = 0;  // training stream cursor at the end
  double final_legal_rate = 0, final_eval_loss = 0;
  double tokens_per_second = 0;  // training tokens (inputs) per second in this run
};

ModelTrainingResult train_model(const ModelTrainingOptions& options);

// Evaluation of a TransformerLens state dict on `games` held-out games of stream `seed`, batches
// of 200 games on `threads` threads (the same result for any count).
struct EvalResult {
  double legal_rate = 0;
  double loss = 0;
  std::int64_t positions = 0;
};
EvalResult evaluate_state(const gpt::ModelConfig& config, const std::vector<NamedTensor>& state,
                          std::uint64_t seed, bool full_games_only, std::int64_t games,
                          int threads = 1);

// Training throughput of train_model's training step (shards' forward and backward on
// options.threads threads, summing, clipping, AdamW) over `steps` steps of options.batch_games
// games after one warm-up step. No evaluation, no checkpoints.
struct Throughput {
  double tokens_per_second = 0;
  double cpu_seconds_per_step = 0;  // of the whole process (all threads), user + system
};
Throughput measure_throughput(const ModelTrainingOptions& options, std::int64_t steps);

}  // namespace othrun::train
