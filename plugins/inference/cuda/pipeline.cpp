#include "pipeline.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <chrono>

namespace othrun::cuda_gpt {

namespace {

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// An out-of-range token would index past W_E on the device: refused before it gets there.
void CudaPipeline::check_tokens(const std::int32_t* tokens, std::int64_t n,
                                std::uint64_t first) const {
  const std::int64_t vocab = forward_.config().d_vocab;
  for (std::int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      throw Error(fmt::format("game {}: token {} at position {} is outside 0..{}",
                              first + static_cast<std::uint64_t>(i / n_pos_), tokens[i], i % n_pos_,
                              vocab - 1));
    }
  }
}

// One of the two buffers sets a batch goes through.
struct CudaPipeline::Slot {
  Slot(std::size_t token_count, std::size_t hook_floats)
      : tokens_host(token_count),
        tokens_device(token_count),
        hooks_device(hook_floats),
        hooks_host(hook_floats) {}
  PinnedArray<std::int32_t> tokens_host;
  DeviceArray<std::int32_t> tokens_device;
  DeviceArray<float> hooks_device;
  PinnedArray<float> hooks_host;
  CudaEvent start{true}, computed{true}, copied;
  std::uint64_t first = 0;
  int count = 0;
  bool busy = false;  // a batch is in flight through this slot
};

CudaPipeline::CudaPipeline(const PackedModel& model, const gpt::RunRequest& request, int batch,
                           int n_pos)
    : request_(request), batch_(batch), n_pos_(n_pos), forward_(model, batch, n_pos) {
  const Dims dims = Dims::of(model.config, batch, n_pos);
  const std::int64_t hooks = hook_floats(request, dims);
  for (int i = 0; i < 2; ++i) {
    slots_.push_back(std::make_unique<Slot>(static_cast<std::size_t>(dims.rows()),
                                            static_cast<std::size_t>(hooks)));
  }
}

CudaPipeline::~CudaPipeline() = default;

gpt::Cache CudaPipeline::views(const Slot& slot, int count) const {
  const Dims dims = Dims::of(forward_.config(), count, n_pos_);
  const PositionWindow window = position_window(request_, n_pos_);
  auto storage = Storage::borrow(reinterpret_cast<std::byte*>(slot.hooks_host.get()),
                                 slot.hooks_host.size() * sizeof(float), nullptr);
  gpt::Cache cache;
  for (const StoredHook& hook : stored_hooks(request_, dims)) {
    HostTensor::Shape shape{count, window.kept()};
    shape.insert(shape.end(), hook.layout.trailing.begin(), hook.layout.trailing.end());
    cache[hook.name] = HostTensor(DType::Float32, shape, HostTensor::contiguous_strides(shape),
                                  hook.offset, storage);
  }
  return cache;
}

PipelineTimes CudaPipeline::run(std::uint64_t n_games, const FillTokens& fill,
                                const WriteBatch& write) {
  PipelineTimes times;
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](Slot& slot) {  // waits for the slot's copy, then writes its batch
    const auto wait_start = std::chrono::steady_clock::now();
    check_cuda(cudaEventSynchronize(slot.copied.get()), "cudaEventSynchronize");
    times.seconds_wait += since(wait_start);
    float gpu_ms = 0;
    check_cuda(cudaEventElapsedTime(&gpu_ms, slot.start.get(), slot.computed.get()),
               "cudaEventElapsedTime");
    times.seconds_gpu += gpu_ms / 1000.0;
    const auto write_start = std::chrono::steady_clock::now();
    write(slot.first, slot.count, views(slot, slot.count));
    times.seconds_write += since(write_start);
    slot.busy = false;
  };
  std::size_t index = 0;
  for (std::uint64_t first = 0; first < n_games; first += static_cast<std::uint64_t>(batch_)) {
    Slot& slot = *slots_[index % 2];
    if (slot.busy) finish(slot);  // batch i-2: its buffers are free once written
    slot.first = first;
    slot.count = static_cast<int>(
        std::min<std::uint64_t>(static_cast<std::uint64_t>(batch_), n_games - first));
    fill(first, slot.count, slot.tokens_host.get());
    check_tokens(slot.tokens_host.get(), static_cast<std::int64_t>(slot.count) * n_pos_, first);
    const std::size_t token_bytes =
        static_cast<std::size_t>(slot.count) * n_pos_ * sizeof(std::int32_t);
    const Dims dims = Dims::of(forward_.config(), slot.count, n_pos_);
    const std::size_t hook_bytes =
        static_cast<std::size_t>(hook_floats(request_, dims)) * sizeof(float);
    cudaStream_t compute = compute_.get(), copy = copy_.get();
    check_cuda(cudaEventRecord(slot.start.get(), compute), "cudaEventRecord");
    check_cuda(cudaMemcpyAsync(slot.tokens_device.get(), slot.tokens_host.get(), token_bytes,
                               cudaMemcpyHostToDevice, compute),
               "cudaMemcpyAsync (tokens)");
    forward_.enqueue(slot.tokens_device.get(), slot.count, n_pos_, request_,
                     slot.hooks_device.get(), compute);
    check_cuda(cudaEventRecord(slot.computed.get(), compute), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(copy, slot.computed.get(), 0), "cudaStreamWaitEvent");
    check_cuda(cudaMemcpyAsync(slot.hooks_host.get(), slot.hooks_device.get(), hook_bytes,
                               cudaMemcpyDeviceToHost, copy),
               "cudaMemcpyAsync (hooks)");
    check_cuda(cudaEventRecord(slot.copied.get(), copy), "cudaEventRecord");
    slot.busy = true;
    // While the GPU runs this batch, the host writes the previous one.
    Slot& previous = *slots_[(index + 1) % 2];
    if (previous.busy) finish(previous);
    ++index;
  }
  for (std::size_t i = 0; i < 2; ++i) {
    Slot& slot = *slots_[(index + i) % 2];  // oldest first
    if (slot.busy) finish(slot);
  }
  times.seconds_total = since(start);
  return times;
}

gpt::Cache CudaPipeline::run_once(const std::vector<std::int32_t>& tokens, int batch, int n_pos,
                                  const gpt::RunRequest& request) {
  check_request(request, forward_.config(), tokens, batch, n_pos);
  const Dims dims = Dims::of(forward_.config(), batch, n_pos);
  DeviceArray<std::int32_t> device_tokens(tokens.size());
  DeviceArray<float> hooks(
      static_cast<std::size_t>(std::max<std::int64_t>(hook_floats(request, dims), 1)));
  check_cuda(cudaMemcpy(device_tokens.get(), tokens.data(), tokens.size() * sizeof(std::int32_t),
                        cudaMemcpyHostToDevice),
             "cudaMemcpy (tokens)");
  forward_.enqueue(device_tokens.get(), batch, n_pos, request, hooks.get(), compute_.get());
  check_cuda(cudaStreamSynchronize(compute_.get()), "cudaStreamSynchronize");
  const PositionWindow window = position_window(request, n_pos);
  gpt::Cache cache;
  for (const StoredHook& hook : stored_hooks(request, dims)) {
    HostTensor::Shape shape{batch, window.kept()};
    shape.insert(shape.end(), hook.layout.trailing.begin(), hook.layout.trailing.end());
    HostTensor out(DType::Float32, shape);
    check_cuda(
        cudaMemcpy(out.mutable_data(), hooks.get() + hook.offset,
                   static_cast<std::size_t>(hook.floats) * sizeof(float), cudaMemcpyDeviceToHost),
        "cudaMemcpy (hooks)");
    cache[hook.name] = std::move(out);
  }
  return cache;
}

}  // namespace othrun::cuda_gpt
