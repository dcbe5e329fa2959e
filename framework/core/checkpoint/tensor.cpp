#include <othrun/error.hpp>
#include <othrun/tensor.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "checkpoint/element.hpp"

namespace othrun {

namespace {

constexpr std::size_t kMaxDims = 64;  // as in LibTorch

// Product of `a` and `b`, or false on overflow.
bool multiply(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}
bool add(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

// Calls fn(element_index) for every element of a strided view, in row-major order.
template <class Fn>
void for_each_index(const HostTensor& t, Fn&& fn) {
  if (t.numel() == 0) return;
  const auto& shape = t.shape();
  const auto& strides = t.strides();
  const std::size_t nd = shape.size();
  if (nd == 0) {
    fn(t.offset());
    return;
  }
  std::vector<std::int64_t> index(nd, 0);
  const std::int64_t inner = shape[nd - 1];
  const std::int64_t inner_stride = strides[nd - 1];
  std::int64_t base = t.offset();
  for (;;) {
    for (std::int64_t i = 0; i < inner; ++i) fn(base + i * inner_stride);
    std::size_t d = nd - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      base += strides[d];
      if (++index[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace

// ---- Storage ----

std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes) {
  std::shared_ptr<Storage> s(new Storage());
  s->owned_ = std::make_unique_for_overwrite<std::byte[]>(std::max<std::size_t>(nbytes, 1));
  s->data_ = s->owned_.get();
  s->nbytes_ = nbytes;
  return s;
}

std::shared_ptr<Storage> Storage::borrow(std::byte* data, std::size_t nbytes,
                                         std::shared_ptr<const void> keep_alive) {
  std::shared_ptr<Storage> s(new Storage());
  s->keep_alive_ = std::move(keep_alive);
  s->data_ = data;
  s->nbytes_ = nbytes;
  return s;
}

// ---- HostTensor ----

HostTensor::HostTensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  std::int64_t bytes = static_cast<std::int64_t>(dtype_size(dtype));
  for (std::int64_t s : shape_) {
    if (s < 0 || !multiply(bytes, s, bytes)) {
      throw std::invalid_argument("HostTensor: invalid shape " + shape_string(shape_));
    }
  }
  strides_ = contiguous_strides(shape_);
  storage_ = Storage::allocate(static_cast<std::size_t>(bytes));
  std::memset(storage_->data(), 0, storage_->nbytes());
}

HostTensor::HostTensor(DType dtype, Shape shape, Shape strides, std::int64_t offset,
                       std::shared_ptr<Storage> storage)
    : dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      storage_(std::move(storage)) {
  if (!storage_) throw std::invalid_argument("HostTensor: null storage");
  std::string error = view_error(dtype_, shape_, strides_, offset_, storage_->nbytes());
  if (!error.empty()) throw std::invalid_argument("HostTensor: " + error);
}

HostTensor HostTensor::arange(DType dtype, Shape shape) {
  HostTensor out(DType::Float64, std::move(shape));
  auto* values = reinterpret_cast<double*>(out.mutable_data());
  const bool parity = dtype == DType::Bool;  // i != 0 would be almost all true
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    values[i] = static_cast<double>(parity ? i % 2 : i);
  }
  return out.to(dtype);
}

std::int64_t HostTensor::numel() const {
  std::int64_t n = 1;
  for (std::int64_t s : shape_) n *= s;  // cannot overflow: checked on construction
  return n;
}

bool HostTensor::is_contiguous() const {
  if (numel() == 0) return true;
  std::int64_t expected = 1;
  for (std::size_t d = shape_.size(); d-- > 0;) {
    if (shape_[d] != 1 && strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

const std::byte* HostTensor::data() const { return mutable_data(); }

std::byte* HostTensor::mutable_data() const {
  if (!storage_) return nullptr;
  return storage_->data() + static_cast<std::size_t>(offset_) * dtype_size(dtype_);
}

HostTensor HostTensor::contiguous() const {
  if (is_contiguous()) return *this;
  return to(dtype_);
}

HostTensor HostTensor::to(DType dtype) const {
  HostTensor out(dtype, shape_);
  if (numel() == 0) return out;
  if (dtype == dtype_ && is_contiguous() && dtype != DType::Bool) {  // bools: 0 or 1 on the way
    std::memcpy(out.mutable_data(), data(), nbytes());
    return out;
  }
  const std::byte* base = storage_->data();
  std::byte* dst = out.mutable_data();
  checkpoint::visit_dtype(dtype_, [&]<class Src>(checkpoint::Tag<Src>) {
    checkpoint::visit_dtype(dtype, [&]<class Dst>(checkpoint::Tag<Dst>) {
      Dst* d = reinterpret_cast<Dst*>(dst);
      for_each_index(*this, [&](std::int64_t i) {
        Src value;
        std::memcpy(&value, base + static_cast<std::size_t>(i) * sizeof(Src), sizeof(Src));
        *d++ = checkpoint::convert<Dst>(value);
      });
    });
  });
  return out;
}

double HostTensor::at(std::span<const std::int64_t> index) const {
  if (index.size() != shape_.size()) {
    throw std::out_of_range("HostTensor::at: " + std::to_string(index.size()) +
                            " indices for shape " + shape_string(shape_));
  }
  std::int64_t element = offset_;
  for (std::size_t d = 0; d < index.size(); ++d) {
    if (index[d] < 0 || index[d] >= shape_[d]) {
      throw std::out_of_range("HostTensor::at: index " + std::to_string(index[d]) +
                              " out of range for dimension " + std::to_string(d) + " of shape " +
                              shape_string(shape_));
    }
    element += index[d] * strides_[d];
  }
  const std::byte* p = storage_->data() + static_cast<std::size_t>(element) * dtype_size(dtype_);
  return checkpoint::visit_dtype(dtype_, [&]<class T>(checkpoint::Tag<T>) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return checkpoint::convert<double>(value);
  });
}

std::string HostTensor::view_error(DType dtype, const Shape& shape, const Shape& strides,
                                   std::int64_t offset, std::size_t storage_bytes) {
  if (shape.size() > kMaxDims) return std::to_string(shape.size()) + " dimensions (at most 64)";
  if (shape.size() != strides.size()) {
    return "shape " + shape_string(shape) + " and strides " + shape_string(strides) +
           " differ in length";
  }
  if (offset < 0) return "negative storage offset " + std::to_string(offset);
  std::int64_t numel = 1;
  std::int64_t last = 0;  // index of the last element relative to offset
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) return "negative size in shape " + shape_string(shape);
    if (strides[d] < 0) return "negative stride in strides " + shape_string(strides);
    std::int64_t reach = 0;
    if (!multiply(numel, shape[d], numel) ||
        (shape[d] > 0 && !multiply(shape[d] - 1, strides[d], reach)) || !add(last, reach, last)) {
      return "shape " + shape_string(shape) + " with strides " + shape_string(strides) +
             " overflows";
    }
  }
  const auto itemsize = static_cast<std::int64_t>(dtype_size(dtype));
  const auto available = static_cast<std::int64_t>(storage_bytes) / itemsize;
  std::int64_t end = offset;  // one past the last element reached
  if (numel > 0 && (!add(offset, last, end) || !add(end, 1, end))) {
    return "storage offset " + std::to_string(offset) + " overflows";
  }
  if (end > available) {
    return "view (shape " + shape_string(shape) + ", strides " + shape_string(strides) +
           ", offset " + std::to_string(offset) + ") needs " + std::to_string(end) +
           " elements but its storage holds " + std::to_string(available);
  }
  return "";
}

HostTensor::Shape HostTensor::contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    if (!multiply(stride, std::max<std::int64_t>(shape[d], 1), stride)) {
      throw std::invalid_argument("HostTensor: shape " + shape_string(shape) + " overflows");
    }
  }
  return strides;
}

// ---- free functions ----

const HostTensor* find_tensor(const std::vector<NamedTensor>& tensors, std::string_view name) {
  for (const auto& t : tensors) {
    if (t.name == name) return &t.tensor;
  }
  return nullptr;
}

const HostTensor& require_tensor(const std::vector<NamedTensor>& tensors, std::string_view name,
                                 const std::string& source) {
  if (const HostTensor* t = find_tensor(tensors, name)) return *t;
  std::string names;
  for (std::size_t i = 0; i < tensors.size() && i < 20; ++i) {
    names += (i ? ", '" : "'") + tensors[i].name + "'";
  }
  if (tensors.size() > 20) names += ", ...";
  throw DataError(source + ": no tensor '" + std::string(name) + "'; it holds " +
                  (tensors.empty() ? std::string("no tensors") : names));
}

std::string shape_string(const HostTensor::Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Round to nearest even, after F. Giesen's float_to_half_fast3_rtne.
std::uint16_t float_to_half(float value) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = u & 0x80000000u;
  u ^= sign;
  std::uint32_t out;
  if (u >= (143u << 23)) {  // >= 65536, inf or NaN
    out = u > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (u < (113u << 23)) {  // subnormal or zero: let the FPU round the mantissa
    const float magic = std::bit_cast<float>(126u << 23);
    out = std::bit_cast<std::uint32_t>(std::bit_cast<float>(u) + magic) - (126u << 23);
  } else {
    const std::uint32_t mantissa_odd = (u >> 13) & 1u;
    u -= 112u << 23;  // rebias the exponent
    u += 0xfffu + mantissa_odd;
    out = u >> 13;
  }
  return static_cast<std::uint16_t>(out | (sign >> 16));
}

float bfloat16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t float_to_bfloat16(float value) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>((u + rounding) >> 16);
}

}  // namespace othrun
