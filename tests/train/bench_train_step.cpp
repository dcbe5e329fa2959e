// Training throughput of candidate Othello-GPT configs (docs/training.md, docs/benchmarks.md):
// tokens per second of a full training step (forward, backward, clipping, AdamW), two ways:
// - "intra-op": one forward and backward over the whole batch, parallel only inside each kernel
//   (LibTorch's OpenMP pool at THREADS, OpenBLAS at whatever its environment says), the
//   training loop before batch shards;
// - "shards=S": train_model's step: S shards of the batch on THREADS threads, each kernel on one.
// Each line: tokens/s over STEPS steps after a warm-up step, and the process's CPU seconds (user +
// system, all threads) per step: on a loaded machine the wall-clock rate says little, the CPU time
// still shows what a thread count costs.
// Usage: bench_train_step [THREADS=2] [CONFIG: 0-3, default all] [SCHEME: intra-op, shards or
//        both (default)] [SHARDS: 0 or none: train_model's] [STEPS=5]
#include <ATen/Parallel.h>

#include <othrun/train/gpt.hpp>
#include <othrun/train/model_training.hpp>
#include <othrun/train/optim.hpp>
#include <othrun/train/synthetic.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

using othrun::train::Adam;
using othrun::train::Gpt;
using othrun::train::Throughput;

Throughput intra_op_throughput(const othrun::gpt::ModelConfig& config, std::int64_t batch_games,
                               std::int64_t steps, int threads) {
  at::set_num_threads(threads);
  Gpt model(config, 1);
  model.set_requires_grad(true);
  Adam adam(model.params(), {0.9, 0.99, 1e-8, 0.01});
  const othrun::train::GameRows rows = othrun::train::GameStream(7, true).draw(0, batch_games);
  const at::Tensor tokens =
      at::from_blob(const_cast<std::int64_t*>(rows.tokens.data()), {rows.count, 60}, at::kLong)
          .clone();
  auto one_step = [&] {
    const at::Tensor loss = othrun::train::next_move_loss(model, tokens).loss;
    adam.zero_grad();
    loss.backward();
    othrun::train::clip_grad_norm(model.params(), 1.0);
    adam.step(1e-4);
  };
  one_step();
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  for (std::int64_t i = 0; i < steps; ++i) one_step();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto n = static_cast<double>(steps);
  return {n * static_cast<double>(batch_games * 59) / seconds, cpu_seconds / n};
}

Throughput sharded_throughput(const othrun::gpt::ModelConfig& config, std::int64_t batch_games,
                              std::int64_t shards, std::int64_t steps, int threads) {
  othrun::train::ModelTrainingOptions o;
  o.model = config;
  o.seed = 1;
  o.batch_games = batch_games;
  o.batch_shards = shards;
  o.steps = 1'000'000;
  o.schedule.lr = 1e-4;
  o.schedule.warmup_steps = 0;
  o.log_every = 1'000'000;
  o.eval_games = 1;
  o.threads = threads;
  return othrun::train::measure_throughput(o, steps);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int only = argc > 2 ? std::atoi(argv[2]) : -1;
  const char* scheme = argc > 3 ? argv[3] : "both";
  const std::int64_t shards = argc > 4 && std::atoll(argv[4]) != 0
                                  ? std::atoll(argv[4])
                                  : othrun::train::ModelTrainingOptions{}.batch_shards;
  const std::int64_t steps = argc > 5 ? std::atoll(argv[5]) : 5;
  const bool intra_op = std::strcmp(scheme, "shards") != 0;
  const bool sharded = std::strcmp(scheme, "intra-op") != 0;
  if (threads < 1 || shards < 1 || steps < 1 || (!intra_op && !sharded)) {
    std::fprintf(stderr,
                 "usage: bench_train_step [THREADS] [CONFIG] [intra-op|shards|both] [S] [STEPS]\n");
    return 2;
  }
  int index = 0;
  struct Candidate {
    std::int64_t d_model, n_heads, d_mlp, batch;
  };
  for (const Candidate c : {Candidate{64, 4, 256, 64}, Candidate{128, 4, 512, 64},
                            Candidate{128, 8, 512, 128}, Candidate{256, 8, 1024, 64}}) {
    if (only >= 0 && index++ != only) continue;
    othrun::gpt::ModelConfig config;
    config.n_layers = 8;
    config.d_model = c.d_model;
    config.n_heads = c.n_heads;
    config.d_head = c.d_model / c.n_heads;
    config.d_mlp = c.d_mlp;
    const auto line = [&](const std::string& name, const Throughput& t) {
      std::printf(
          "%s n_layers=8 d_model=%ld n_heads=%ld d_mlp=%ld batch=%ld: %.0f tokens/s, %.3f CPU "
          "s/step\n",
          name.c_str(), c.d_model, c.n_heads, c.d_mlp, c.batch, t.tokens_per_second,
          t.cpu_seconds_per_step);
      std::fflush(stdout);
    };
    if (intra_op) line("intra-op", intra_op_throughput(config, c.batch, steps, threads));
    if (sharded) {
      line("shards=" + std::to_string(shards),
           sharded_throughput(config, c.batch, shards, steps, threads));
    }
  }
}
