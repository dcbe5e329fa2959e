// HookedTransformer: loading and weight processing (HostTensor <-> ATen via
// othrun/torch_bridge.hpp).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <fmt/format.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <mutex>

#include <othrun/error.hpp>
#include <othrun/torch/hooked_transformer.hpp>
#include <othrun/torch_bridge.hpp>
#include "aten_model.hpp"

namespace othrun::gpt {

struct HookedTransformer::Impl {
  ModelConfig config;
  CheckpointFormat source_format = CheckpointFormat::TransformerLens;
  detail::WeightMap weights;
  detail::PackedModel packed;
};

HookedTransformer::HookedTransformer(const ModelConfig& config,
                                     const std::vector<NamedTensor>& tensors,
                                     const std::string& source)
    : impl_(std::make_unique<Impl>()) {
  check_params(tensors, config, source);
  impl_->config = config;
  for (const NamedTensor& t : tensors) {
    if (!is_ignored_buffer(t.name))
      // An owned float32 copy: process_weights changes the weights in place.
      impl_->weights[t.name] =
          to_torch(t.tensor).to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  }
  impl_->packed = detail::pack(impl_->weights, impl_->config);
}

HookedTransformer::HookedTransformer(HookedTransformer&&) noexcept = default;
HookedTransformer& HookedTransformer::operator=(HookedTransformer&&) noexcept = default;
HookedTransformer::~HookedTransformer() = default;

HookedTransformer HookedTransformer::from_file(const std::filesystem::path& path,
                                               const LoadOptions& options) {
  const std::optional<std::int64_t> heads =
      options.config ? std::optional(options.config->n_heads) : options.mingpt_n_heads;
  LoadedCheckpoint loaded = load_checkpoint(path, options.format, heads);
  ModelConfig base = options.config.value_or(ModelConfig{});
  base.act_fn = options.act_fn;
  const ModelConfig config =
      options.config ? base : infer_config(loaded.tensors, path.string(), base);
  HookedTransformer model(config, loaded.tensors, path.string());
  model.impl_->source_format = loaded.format;
  model.process_weights(options.process);
  return model;
}

void HookedTransformer::process_weights(const ProcessOptions& options) {
  c10::InferenceMode guard;
  detail::process_weights(impl_->weights, impl_->config, options);
  impl_->packed = detail::pack(impl_->weights, impl_->config);
}

const ModelConfig& HookedTransformer::config() const { return impl_->config; }

CheckpointFormat HookedTransformer::source_format() const { return impl_->source_format; }

std::vector<NamedTensor> HookedTransformer::state_dict() const {
  std::vector<NamedTensor> out;
  for (const ParamShape& p : expected_params(impl_->config)) {
    out.push_back({p.name, from_torch(impl_->weights.at(p.name).clone())});
  }
  return out;
}

namespace {

// A forward allocates ~300 MB of activations per layer for a batch of 100 games and frees them
// right after. glibc serves blocks over its mmap threshold (128 KB, adapting up to 32 MB) with
// fresh pages each time, and faulting in fresh pages cost 25-40 ms per 48 MB on the development
// machine: a third of the forward. Raising the threshold and the trim threshold keeps freed blocks
// in the heap for the next layer and batch (1.5 ms per 48 MB). The price: the process keeps up
// to 1 GiB of freed memory for reuse instead of returning it to the system at once.
void keep_freed_memory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int kKeep = 1 << 30;
    mallopt(M_MMAP_THRESHOLD, kKeep);
    mallopt(M_TRIM_THRESHOLD, kKeep);
  });
#endif
}

}  // namespace

Cache HookedTransformer::run(const HostTensor& tokens, const RunRequest& request) const {
  keep_freed_memory();
  c10::InferenceMode guard;  // no autograd bookkeeping: the forward is read-only
  return detail::forward(impl_->packed, impl_->config, to_torch(tokens).to(at::kLong), request);
}

void set_num_threads(int threads) { at::set_num_threads(std::max(1, threads)); }

}  // namespace othrun::gpt
