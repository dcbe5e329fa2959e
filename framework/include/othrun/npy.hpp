// NumPy .npy files: read (format versions 1, 2 and 3) and write, for datasets such as
// board_seqs_int_small.npy and for tests and plugins that exchange arrays with Python.
//
// Supported: C-order arrays of little-endian |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 <f4 <f8. Everything
// else (big-endian, Fortran order, structured or object dtypes, truncated files) is rejected with
// an othrun::DataError that names the file and what is wrong with it. Arrays are read by rows (the
// first axis), so a file never has to fit in memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace othrun::npy {

enum class ElementType : std::uint8_t {
  Int8,
  UInt8,
  Int16,
  UInt16,
  Int32,
  UInt32,
  Int64,
  UInt64,
  Float32,
  Float64
};

std::size_t element_size(ElementType type);
const char* descr(ElementType type);      // "<i8", "|u1", ...
const char* to_string(ElementType type);  // "int64", "uint8", ...

// The element type of C++ type T (one of the ten above).
template <class T>
constexpr ElementType element_type_of() {
  if constexpr (std::is_same_v<T, std::int8_t>) return ElementType::Int8;
  if constexpr (std::is_same_v<T, std::uint8_t>) return ElementType::UInt8;
  if constexpr (std::is_same_v<T, std::int16_t>) return ElementType::Int16;
  if constexpr (std::is_same_v<T, std::uint16_t>) return ElementType::UInt16;
  if constexpr (std::is_same_v<T, std::int32_t>) return ElementType::Int32;
  if constexpr (std::is_same_v<T, std::uint32_t>) return ElementType::UInt32;
  if constexpr (std::is_same_v<T, std::int64_t>) return ElementType::Int64;
  if constexpr (std::is_same_v<T, std::uint64_t>) return ElementType::UInt64;
  if constexpr (std::is_same_v<T, float>) return ElementType::Float32;
  if constexpr (std::is_same_v<T, double>) return ElementType::Float64;
}

struct Header {
  int major_version = 1;
  int minor_version = 0;
  ElementType type = ElementType::Int64;
  std::vector<std::uint64_t> shape;  // empty for a 0-d array
  std::uint64_t data_offset = 0;     // where the data starts, from the start of the file

  std::uint64_t element_count() const;  // product of shape (1 for 0-d)
  std::uint64_t rows() const;           // shape[0] (1 for 0-d)
  std::uint64_t row_size() const;       // elements per row: product of shape[1:]
  std::uint64_t data_bytes() const { return element_count() * element_size(type); }
};

// Parses the header at the start of `bytes` (the file's first bytes, at least the whole header).
// `file` names the file in error messages.
Header parse_header(std::string_view bytes, const std::string& file);

// "(100000, 60)", as numpy prints a shape.
std::string format_shape(const std::vector<std::uint64_t>& shape);

// An open .npy file whose header has been checked against the file's size.
class Reader {
 public:
  explicit Reader(std::filesystem::path path);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  const std::filesystem::path& path() const { return path_; }
  const Header& header() const { return header_; }
  std::uint64_t rows() const { return header_.rows(); }
  std::uint64_t row_size() const { return header_.row_size(); }

  // Reads rows [first, first + count) into `out` (count * row_size() elements), converting each
  // element to T. A value T cannot hold exactly (300 into int8, 2.5 into an integer) is an error.
  // T: any of the ten element types.
  template <class T>
  void read_rows(std::uint64_t first, std::uint64_t count, std::span<T> out);
  template <class T>
  std::vector<T> read_rows(std::uint64_t first, std::uint64_t count) {
    std::vector<T> out(count * row_size());
    read_rows<T>(first, count, std::span<T>(out));
    return out;
  }
  template <class T>
  std::vector<T> read_all() {
    return read_rows<T>(0, rows());
  }

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const;
  };
  void read_bytes(std::uint64_t offset, std::span<std::byte> out);

  std::filesystem::path path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  Header header_;
};

// Writes `data` (C order) with `shape` as a .npy file of T's element type. `version` 1, 2 or 3
// (0: version 1, or 2 when the header needs it). Writes to `path`.partial, then renames.
template <class T>
void write(const std::filesystem::path& path, const std::vector<std::uint64_t>& shape,
           std::span<const T> data, int version = 0);

}  // namespace othrun::npy
