// HostTensor <-> at::Tensor for plugins that link LibTorch. Header-only on purpose: libothrun_core
// never includes it, so the core builds and runs without LibTorch.
//
//   othrun::PthFile f = othrun::load_pth("model.pth");
//   at::Tensor w = othrun::to_torch(f.tensor("blocks.0.attn.W_Q"));   // no copy
//   othrun::save_pth("probe.pth", othrun::PyValue::ordered_dict({{"w", othrun::from_torch(w)}}));
//
// Both directions share memory instead of copying, like torch.from_numpy: writes through one are
// seen by the other, and each side keeps the memory alive. Call .clone() (at::Tensor) or
// .contiguous()/.to() (HostTensor) for an independent copy.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <othrun/tensor.hpp>

namespace othrun {

inline at::ScalarType to_torch_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return at::kBool;
    case DType::UInt8:
      return at::kByte;
    case DType::Int8:
      return at::kChar;
    case DType::Int16:
      return at::kShort;
    case DType::Int32:
      return at::kInt;
    case DType::Int64:
      return at::kLong;
    case DType::Float16:
      return at::kHalf;
    case DType::BFloat16:
      return at::kBFloat16;
    case DType::Float32:
      return at::kFloat;
    case DType::Float64:
      return at::kDouble;
    case DType::UInt64:
      break;
  }
  throw std::invalid_argument(std::string("to_torch: LibTorch has no ") + to_string(dtype) +
                              " tensors");
}

inline DType from_torch_dtype(at::ScalarType type) {
  switch (type) {
    case at::kBool:
      return DType::Bool;
    case at::kByte:
      return DType::UInt8;
    case at::kChar:
      return DType::Int8;
    case at::kShort:
      return DType::Int16;
    case at::kInt:
      return DType::Int32;
    case at::kLong:
      return DType::Int64;
    case at::kHalf:
      return DType::Float16;
    case at::kBFloat16:
      return DType::BFloat16;
    case at::kFloat:
      return DType::Float32;
    case at::kDouble:
      return DType::Float64;
    default:
      break;
  }
  throw std::invalid_argument(std::string("from_torch: no othrun dtype for ") +
                              c10::toString(type));
}

// A CPU at::Tensor viewing the HostTensor's bytes with the same shape and strides.
inline at::Tensor to_torch(const HostTensor& t) {
  const auto options = at::TensorOptions().dtype(to_torch_dtype(t.dtype()));
  if (!t.storage()) return at::empty(t.shape(), options);
  auto* owner = new std::shared_ptr<Storage>(t.storage());  // released by the at::Tensor
  return at::from_blob(
      t.mutable_data(), t.shape(), t.strides(), [owner](void*) { delete owner; }, options);
}

// A HostTensor viewing a strided tensor's bytes (copied to the CPU first if it lives elsewhere).
inline HostTensor from_torch(const at::Tensor& tensor) {
  if (tensor.layout() != at::kStrided || tensor.is_quantized()) {
    throw std::invalid_argument("from_torch: only dense (strided) tensors convert");
  }
  at::Tensor cpu = tensor.device().is_cpu() ? tensor : tensor.cpu();
  const DType dtype = from_torch_dtype(cpu.scalar_type());
  if (cpu.numel() == 0) return HostTensor(dtype, cpu.sizes().vec());
  const std::int64_t offset = cpu.storage_offset();
  // The storage's start, from data_ptr() (the element at the offset), which every LibTorch
  // version offers under the same name.
  auto* base = static_cast<std::byte*>(cpu.data_ptr()) -
               offset * static_cast<std::int64_t>(dtype_size(dtype));
  auto keep_alive = std::make_shared<at::Tensor>(cpu);
  auto storage = Storage::borrow(base, cpu.storage().nbytes(), std::move(keep_alive));
  return HostTensor(dtype, cpu.sizes().vec(), cpu.strides().vec(), offset, std::move(storage));
}

}  // namespace othrun
