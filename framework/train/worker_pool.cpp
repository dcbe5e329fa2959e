#include "worker_pool.hpp"

#include <dlfcn.h>

#include <ATen/Parallel.h>

#include <othrun/log.hpp>

namespace othrun::train {

namespace {

// ATen's thread count is per thread (OpenMP's) and set lazily from a process-wide value on a
// thread's first use: read it once so that the lazy set cannot undo ours later, then set it.
void aten_one_thread() {
  (void)at::get_num_threads();
  at::set_num_threads(1);
}

}  // namespace

SingleThreadedKernels::SingleThreadedKernels() : aten_threads_(at::get_num_threads()) {
  aten_one_thread();
  // LibTorch calls OpenBLAS, whose pool size is one value for the process. Only an OpenBLAS that
  // is loaded already (LibTorch's) is changed; another BLAS follows ATen's count or its own.
  openblas_ = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
  if (openblas_ == nullptr) {
    log::debug("training: no libopenblas.so.0 loaded; its thread count is left as it is");
    return;
  }
  using Get = int (*)();
  using Set = void (*)(int);
  const auto get = reinterpret_cast<Get>(::dlsym(openblas_, "openblas_get_num_threads"));
  const auto set = reinterpret_cast<Set>(::dlsym(openblas_, "openblas_set_num_threads"));
  if (get == nullptr || set == nullptr) return;
  openblas_threads_ = get();
  set(1);
}

SingleThreadedKernels::~SingleThreadedKernels() {
  at::set_num_threads(std::max(1, aten_threads_));
  if (openblas_ == nullptr) return;
  if (openblas_threads_ > 0) {
    using Set = void (*)(int);
    reinterpret_cast<Set>(::dlsym(openblas_, "openblas_set_num_threads"))(openblas_threads_);
  }
  ::dlclose(openblas_);  // drops our reference only: LibTorch keeps its own
}

WorkerPool::WorkerPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void WorkerPool::run(std::int64_t count, const std::function<void(std::int64_t)>& task) {
  if (count <= 0) return;
  {
    const std::lock_guard lock(mutex_);
    task_ = &task;
    count_ = count;
    next_ = 0;
    errors_.assign(static_cast<std::size_t>(count), nullptr);
    busy_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain();
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    task_ = nullptr;
  }
  for (const auto& error : errors_) {
    if (error) std::rethrow_exception(error);
  }
}

void WorkerPool::work() {
  aten_one_thread();
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    drain();
    {
      const std::lock_guard lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

// Takes indices until none are left. task_ and count_ were written under the mutex before the
// generation changed, and every thread here has seen that change.
void WorkerPool::drain() {
  for (std::int64_t i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1)) {
    try {
      (*task_)(i);
    } catch (...) {
      errors_[static_cast<std::size_t>(i)] = std::current_exception();
    }
  }
}

}  // namespace othrun::train
