// Training throughput of candidate Othello-GPT configs (docs/training.md): tokens per second of a
// full training step (forward, backward, clipping, AdamW).
// Usage: bench_train_step [THREADS=2] [CONFIG: 0-3, default all].
#include <othrun/train/model_training.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int only = argc > 2 ? std::atoi(argv[2]) : -1;
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
    const double tps = othrun::train::measure_tokens_per_second(config, c.batch, 5, threads);
    std::printf("n_layers=8 d_model=%ld n_heads=%ld d_mlp=%ld batch=%ld: %.0f tokens/s\n",
                c.d_model, c.n_heads, c.d_mlp, c.batch, tps);
    std::fflush(stdout);
  }
}
