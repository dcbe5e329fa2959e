// Streams batches of games through the CUDA forward with the store writes hidden behind the GPU:
// two pinned host buffers of tokens and of hook outputs, two device hook blocks, a compute stream
// and a copy stream. Batch i computes on the compute stream into device block i%2; the copy stream
// then moves that block to pinned buffer i%2 (overlapping batch i+1's compute); meanwhile the host
// writes batch i-1 from the other pinned buffer to the store. GPU memory is the weights, one
// workspace and two hook blocks of one batch (memory_plan.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "cuda_forward.hpp"

namespace othrun::cuda_gpt {

struct PipelineTimes {
  double seconds_total = 0;  // first token upload to the last batch written
  double seconds_gpu = 0;    // forward kernels and products (CUDA events, summed over batches)
  double seconds_write = 0;  // in the write callback (the store)
  double seconds_wait = 0;   // the host waiting for the GPU
};

class CudaPipeline {
 public:
  // Writes `count` games' tokens (row-major [count, n_pos]) for games [first, first + count).
  using FillTokens = std::function<void(std::uint64_t first, int count, std::int32_t* tokens)>;
  // Receives games [first, first + count): the stored hooks as views on pinned memory
  // ([count, kept positions, ...], stored layout), valid only during the call.
  using WriteBatch = std::function<void(std::uint64_t first, int count, const gpt::Cache& hooks)>;

  // `batch`: games per forward (memory_plan.hpp's fit_batch bounds it); `n_pos`: positions.
  CudaPipeline(const PackedModel& model, const gpt::RunRequest& request, int batch, int n_pos);
  ~CudaPipeline();
  CudaPipeline(const CudaPipeline&) = delete;
  CudaPipeline& operator=(const CudaPipeline&) = delete;

  PipelineTimes run(std::uint64_t n_games, const FillTokens& fill, const WriteBatch& write);

  // One synchronous forward of host tokens [batch, n_pos] (batch <= the pipeline's), the hooks
  // copied out: for the log-prob board and the GPU checks.
  gpt::Cache run_once(const std::vector<std::int32_t>& tokens, int batch, int n_pos,
                      const gpt::RunRequest& request);

 private:
  struct Slot;
  gpt::Cache views(const Slot& slot, int count) const;
  void check_tokens(const std::int32_t* tokens, std::int64_t n, std::uint64_t first) const;

  gpt::RunRequest request_;
  int batch_, n_pos_;
  CudaForward forward_;
  CudaStream compute_, copy_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace othrun::cuda_gpt
