// Element types of .npy files and the Header's derived sizes.
#include <othrun/npy.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace othrun::npy {

std::size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::Int8:
    case ElementType::UInt8:
      return 1;
    case ElementType::Int16:
    case ElementType::UInt16:
      return 2;
    case ElementType::Int32:
    case ElementType::UInt32:
    case ElementType::Float32:
      return 4;
    case ElementType::Int64:
    case ElementType::UInt64:
    case ElementType::Float64:
      return 8;
  }
  return 0;
}

const char* descr(ElementType type) {
  switch (type) {
    case ElementType::Int8:
      return "|i1";
    case ElementType::UInt8:
      return "|u1";
    case ElementType::Int16:
      return "<i2";
    case ElementType::UInt16:
      return "<u2";
    case ElementType::Int32:
      return "<i4";
    case ElementType::UInt32:
      return "<u4";
    case ElementType::Int64:
      return "<i8";
    case ElementType::UInt64:
      return "<u8";
    case ElementType::Float32:
      return "<f4";
    case ElementType::Float64:
      return "<f8";
  }
  return "?";
}

const char* to_string(ElementType type) {
  switch (type) {
    case ElementType::Int8:
      return "int8";
    case ElementType::UInt8:
      return "uint8";
    case ElementType::Int16:
      return "int16";
    case ElementType::UInt16:
      return "uint16";
    case ElementType::Int32:
      return "int32";
    case ElementType::UInt32:
      return "uint32";
    case ElementType::Int64:
      return "int64";
    case ElementType::UInt64:
      return "uint64";
    case ElementType::Float32:
      return "float32";
    case ElementType::Float64:
      return "float64";
  }
  return "?";
}

std::uint64_t Header::element_count() const {
  std::uint64_t count = 1;
  for (auto extent : shape) count *= extent;  // parse_header rejects shapes that overflow
  return count;
}

std::uint64_t Header::rows() const { return shape.empty() ? 1 : shape[0]; }

std::uint64_t Header::row_size() const {
  std::uint64_t size = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) size *= shape[i];
  return size;
}

std::string format_shape(const std::vector<std::uint64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace othrun::npy
