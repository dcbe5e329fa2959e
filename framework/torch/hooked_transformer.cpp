// HookedTransformer: loading, weight processing and the HostTensor <-> ATen bridge.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <fmt/format.h>

#include <cstring>

#include <othrun/error.hpp>
#include <othrun/torch/hooked_transformer.hpp>
#include "aten_model.hpp"

namespace othrun::gpt {

namespace detail {

at::Tensor to_aten(const HostTensor& t) {
  const bool integral = t.dtype() != DType::Float16 && t.dtype() != DType::BFloat16 &&
                        t.dtype() != DType::Float32 && t.dtype() != DType::Float64;
  const HostTensor c = t.to(integral ? DType::Int64 : DType::Float32);
  at::Tensor out = at::empty(c.shape(), integral ? at::kLong : at::kFloat);
  if (c.nbytes() > 0) std::memcpy(out.data_ptr(), c.data(), c.nbytes());
  return out;
}

HostTensor to_host(const at::Tensor& t) {
  auto owner = std::make_shared<at::Tensor>(t.to(at::kFloat).contiguous());
  HostTensor::Shape shape(owner->sizes().begin(), owner->sizes().end());
  auto* bytes = static_cast<std::byte*>(owner->data_ptr());
  const std::size_t nbytes = owner->nbytes();
  auto storage = Storage::borrow(bytes, nbytes, std::move(owner));
  HostTensor::Shape strides = HostTensor::contiguous_strides(shape);
  return HostTensor(DType::Float32, std::move(shape), std::move(strides), 0, std::move(storage));
}

}  // namespace detail

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
      impl_->weights[t.name] = detail::to_aten(t.tensor).to(at::kFloat);
  }
  impl_->packed = detail::pack(impl_->weights, impl_->config);
}

HookedTransformer::HookedTransformer(HookedTransformer&&) noexcept = default;
HookedTransformer& HookedTransformer::operator=(HookedTransformer&&) noexcept = default;
HookedTransformer::~HookedTransformer() = default;

HookedTransformer HookedTransformer::from_file(const std::filesystem::path& path,
                                               const LoadOptions& options) {
  const std::int64_t heads = options.config ? options.config->n_heads : options.mingpt_n_heads;
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
    out.push_back({p.name, detail::to_host(impl_->weights.at(p.name).clone())});
  }
  return out;
}

Cache HookedTransformer::run(const HostTensor& tokens, const RunRequest& request) const {
  c10::InferenceMode guard;  // no autograd bookkeeping: the forward is read-only
  return detail::forward(impl_->packed, impl_->config, detail::to_aten(tokens), request);
}

void set_num_threads(int threads) { at::set_num_threads(std::max(1, threads)); }

}  // namespace othrun::gpt
