// HostTensor: an n-dimensional array in host memory, the tensor type of libothrun_core (no
// LibTorch).
//
// Like a torch.Tensor it is a view (dtype, shape, strides, element offset) on a byte buffer that
// several tensors may share: a checkpoint's tied weights, or a transpose saved by torch.save, load
// as two views of one Storage. Strides and offsets count elements, not bytes. Views are immutable
// in shape; the bytes they see may be written through mutable_data(). A LibTorch plugin converts
// with othrun/torch_bridge.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <othrun/dtype.hpp>

namespace othrun {

// A block of bytes that tensors view. Either owned (allocate) or borrowed from another owner that
// `keep_alive` keeps alive (e.g. an at::Tensor in torch_bridge.hpp).
class Storage {
 public:
  // Uninitialised bytes: the readers overwrite all of them, so zero-filling would be wasted work.
  static std::shared_ptr<Storage> allocate(std::size_t nbytes);
  static std::shared_ptr<Storage> borrow(std::byte* data, std::size_t nbytes,
                                         std::shared_ptr<const void> keep_alive);

  std::byte* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

 private:
  Storage() = default;
  std::unique_ptr<std::byte[]> owned_;
  std::shared_ptr<const void> keep_alive_;
  std::byte* data_ = nullptr;
  std::size_t nbytes_ = 0;
};

class HostTensor {
 public:
  using Shape = std::vector<std::int64_t>;

  HostTensor() = default;  // an empty float32 tensor of shape [0] without storage
  // A new contiguous zero-filled tensor.
  HostTensor(DType dtype, Shape shape);
  // A view on `storage`; throws std::invalid_argument if it reaches outside the storage.
  HostTensor(DType dtype, Shape shape, Shape strides, std::int64_t offset,
             std::shared_ptr<Storage> storage);

  // A contiguous tensor holding `values` (row-major) with the given shape.
  template <class T>
  static HostTensor from_values(Shape shape, std::span<const T> values);
  template <class T>
  static HostTensor from_values(Shape shape, std::initializer_list<T> values) {
    return from_values<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }
  // Element i (row-major) is i converted to dtype (bool: i % 2 == 1): for tests and examples.
  static HostTensor arange(DType dtype, Shape shape);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  std::int64_t offset() const { return offset_; }  // in elements
  std::size_t dim() const { return shape_.size(); }
  std::int64_t numel() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  bool is_contiguous() const;  // row-major with no gaps (offset may be non-zero)
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Byte address of element [0, ..., 0].
  const std::byte* data() const;
  std::byte* mutable_data() const;
  // Typed pointer to element [0, ..., 0]; throws std::invalid_argument if T does not match dtype.
  template <class T>
  const T* data_as() const;

  // This tensor if already contiguous, else a contiguous copy.
  HostTensor contiguous() const;
  // A contiguous copy converted to `dtype` (floats round to nearest even; float to int truncates
  // and saturates, NaN becomes 0; anything non-zero becomes true).
  HostTensor to(DType dtype) const;
  HostTensor to_float32() const { return to(DType::Float32); }
  // All elements, row-major, converted to T (bool, the integer types, float or double).
  template <class T>
  std::vector<T> to_vector() const;
  // One element converted to double; throws std::out_of_range on a bad index.
  double at(std::span<const std::int64_t> index) const;
  double at(std::initializer_list<std::int64_t> index) const {
    return at(std::span<const std::int64_t>(index.begin(), index.size()));
  }

  // Why the view (dtype, shape, strides, offset) does not fit into `storage_bytes`, or "" if it
  // does. Checks overflow of every product before use: readers call it on untrusted input.
  static std::string view_error(DType dtype, const Shape& shape, const Shape& strides,
                                std::int64_t offset, std::size_t storage_bytes);
  static Shape contiguous_strides(const Shape& shape);

 private:
  DType dtype_ = DType::Float32;
  Shape shape_{0};
  Shape strides_{1};
  std::int64_t offset_ = 0;
  std::shared_ptr<Storage> storage_;
};

// A tensor with the name it has in its file (e.g. "blocks.0.attn.W_Q", "state_dict.W_enc").
struct NamedTensor {
  std::string name;
  HostTensor tensor;
};

// The tensor called `name`, or nullptr.
const HostTensor* find_tensor(const std::vector<NamedTensor>& tensors, std::string_view name);
// The tensor called `name`, or a DataError "<source>: no tensor 'x'; it holds 'a', 'b', ...".
const HostTensor& require_tensor(const std::vector<NamedTensor>& tensors, std::string_view name,
                                 const std::string& source);

// "[3, 512, 8, 8, 3]"
std::string shape_string(const HostTensor::Shape& shape);

// IEEE half and bfloat16 bit patterns <-> float (round to nearest even, NaN kept).
float half_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_bfloat16(float value);

// ---- template implementations ----

template <class T>
HostTensor HostTensor::from_values(Shape shape, std::span<const T> values) {
  HostTensor out(dtype_of<T>(), std::move(shape));
  if (static_cast<std::size_t>(out.numel()) != values.size()) {
    throw std::invalid_argument("HostTensor::from_values: " + std::to_string(values.size()) +
                                " values for shape " + shape_string(out.shape()));
  }
  T* dst = reinterpret_cast<T*>(out.mutable_data());
  for (std::size_t i = 0; i < values.size(); ++i) dst[i] = values[i];
  return out;
}

template <class T>
const T* HostTensor::data_as() const {
  if (dtype_of<T>() != dtype_) {
    throw std::invalid_argument(std::string("HostTensor::data_as: tensor holds ") +
                                to_string(dtype_) + ", not " + to_string(dtype_of<T>()));
  }
  return reinterpret_cast<const T*>(data());
}

template <class T>
std::vector<T> HostTensor::to_vector() const {
  HostTensor converted = to(dtype_of<T>());
  const T* src = reinterpret_cast<const T*>(converted.data());
  return std::vector<T>(src, src + converted.numel());
}

}  // namespace othrun
