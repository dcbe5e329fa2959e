// Element types behind each DType and conversions between them, for loops over tensor data.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include <othrun/dtype.hpp>
#include <othrun/tensor.hpp>

namespace othrun::checkpoint {

// A bool element as stored: one byte that a corrupt file may set to anything but 0 or 1, which
// would be undefined behaviour to read as a C++ bool.
struct Bool8 {
  std::uint8_t bits;
};

// 16-bit float bit patterns, distinct types so that overloads can tell them apart.
struct Half {
  std::uint16_t bits;
};
struct BFloat16 {
  std::uint16_t bits;
};

template <class T>
struct Tag {};

// Calls fn(Tag<T>{}) with the element type T of `dtype`.
template <class Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::Bool:
      return fn(Tag<Bool8>{});
    case DType::UInt8:
      return fn(Tag<std::uint8_t>{});
    case DType::Int8:
      return fn(Tag<std::int8_t>{});
    case DType::Int16:
      return fn(Tag<std::int16_t>{});
    case DType::Int32:
      return fn(Tag<std::int32_t>{});
    case DType::Int64:
      return fn(Tag<std::int64_t>{});
    case DType::UInt64:
      return fn(Tag<std::uint64_t>{});
    case DType::Float16:
      return fn(Tag<Half>{});
    case DType::BFloat16:
      return fn(Tag<BFloat16>{});
    case DType::Float32:
      return fn(Tag<float>{});
    case DType::Float64:
      return fn(Tag<double>{});
  }
  return fn(Tag<float>{});
}

// Widens any element to double (exact for all but 64-bit integers beyond 2^53).
inline double to_double(Bool8 v) { return v.bits != 0 ? 1.0 : 0.0; }
inline double to_double(Half v) { return half_to_float(v.bits); }
inline double to_double(BFloat16 v) { return bfloat16_to_float(v.bits); }
template <class T>
double to_double(T v) {
  return static_cast<double>(v);
}

// Float to integer: truncates toward zero and saturates; NaN becomes 0 (a plain cast would be UB).
template <class I>
I saturate(double v) {
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<I>::min())) {
    return std::numeric_limits<I>::min();
  }
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) {
    return std::numeric_limits<I>::max();
  }
  return static_cast<I>(v);
}

template <class Dst, class Src>
Dst convert(Src v) {
  if constexpr (std::is_same_v<Dst, Src>) {
    return v;
  } else if constexpr (std::is_same_v<Dst, Bool8>) {
    return Bool8{static_cast<std::uint8_t>(to_double(v) != 0.0 ? 1 : 0)};
  } else if constexpr (std::is_same_v<Dst, Half>) {
    return Half{float_to_half(static_cast<float>(to_double(v)))};
  } else if constexpr (std::is_same_v<Dst, BFloat16>) {
    return BFloat16{float_to_bfloat16(static_cast<float>(to_double(v)))};
  } else if constexpr (std::is_floating_point_v<Dst>) {
    return static_cast<Dst>(to_double(v));
  } else if constexpr (std::is_integral_v<Src> && !std::is_same_v<Src, bool>) {
    // Integer to integer keeps all 64 bits; cmp_* compare mixed signedness exactly.
    if (std::cmp_less(v, std::numeric_limits<Dst>::min())) return std::numeric_limits<Dst>::min();
    if (std::cmp_greater(v, std::numeric_limits<Dst>::max()))
      return std::numeric_limits<Dst>::max();
    return static_cast<Dst>(v);
  } else {
    return saturate<Dst>(to_double(v));
  }
}

// Makes every byte of a bool storage 0 or 1 (torch reads any non-zero byte as true).
inline void normalize_bools(std::byte* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) data[i] = std::byte{data[i] != std::byte{0}};
}

}  // namespace othrun::checkpoint
