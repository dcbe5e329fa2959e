// Data parallelism for training (docs/training.md, "Threads and shards"): a pool of `threads`
// threads (the caller and threads - 1 workers) on which every ATen and OpenBLAS kernel runs on
// one thread. The model's matrix products are too small for the libraries' own intra-op threads
// to pay (docs/benchmarks.md); whole shards of a batch, one per thread, do. A kernel on one
// thread also computes the same bits whichever thread runs it, which is what makes the weights
// independent of the thread count.
// Private to libothrun_train (no LibTorch in this header).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace othrun::train {

// While alive: LibTorch's intra-op pool and OpenBLAS's pool at one thread for the whole process;
// the counts before are restored at the end.
class SingleThreadedKernels {
 public:
  SingleThreadedKernels();
  ~SingleThreadedKernels();
  SingleThreadedKernels(const SingleThreadedKernels&) = delete;
  SingleThreadedKernels& operator=(const SingleThreadedKernels&) = delete;

 private:
  int aten_threads_ = 1;
  void* openblas_ = nullptr;  // dlopen handle of the loaded libopenblas.so.0, if any
  int openblas_threads_ = 0;  // 0: OpenBLAS not found, nothing to restore
};

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls task(i) once for every i in [0, count), on the pool's threads and the caller's, and
  // returns when all are done. Which thread runs which i is not fixed: a task must write only
  // its own results. The exception of the lowest failing i is rethrown.
  void run(std::int64_t count, const std::function<void(std::int64_t)>& task);

 private:
  void work();
  void drain();

  SingleThreadedKernels kernels_;  // first: the workers start single-threaded
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::uint64_t generation_ = 0;  // one per run()
  bool stopping_ = false;
  int busy_ = 0;  // workers not yet done with the current run()
  const std::function<void(std::int64_t)>* task_ = nullptr;
  std::int64_t count_ = 0;
  std::atomic<std::int64_t> next_{0};
  std::vector<std::exception_ptr> errors_;
};

}  // namespace othrun::train
