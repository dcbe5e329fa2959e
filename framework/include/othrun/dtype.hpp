// Element types shared by the store, tensors and checkpoint files.
#pragma once

#include <cstddef>
#include <cstdint>

namespace othrun {

enum class DType {
  Bool,
  UInt8,
  Int8,
  Int16,
  Int32,
  Int64,
  UInt64,
  Float16,
  BFloat16,
  Float32,
  Float64
};

const char* to_string(DType dtype);  // numpy-style names: "float32", "bfloat16", "bool", ...
std::size_t dtype_size(DType dtype);

// Maps a C++ element type to its DType.
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<bool>() {
  return DType::Bool;
}
template <>
constexpr DType dtype_of<std::uint8_t>() {
  return DType::UInt8;
}
template <>
constexpr DType dtype_of<std::int8_t>() {
  return DType::Int8;
}
template <>
constexpr DType dtype_of<std::int16_t>() {
  return DType::Int16;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::Int32;
}
template <>
constexpr DType dtype_of<std::int64_t>() {
  return DType::Int64;
}
template <>
constexpr DType dtype_of<std::uint64_t>() {
  return DType::UInt64;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::Float32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::Float64;
}

}  // namespace othrun
