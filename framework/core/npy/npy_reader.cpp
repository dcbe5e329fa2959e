// Reading .npy data by rows, converting each element to the caller's type with exactness checks.
#include <othrun/error.hpp>
#include <othrun/npy.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

namespace othrun::npy {

namespace {

constexpr std::size_t kBlockBytes = std::size_t{1} << 20;
constexpr std::size_t kPrefixBytes = 12;  // magic, version, and a length of up to 4 bytes

template <class T>
const char* type_name() {
  return to_string(element_type_of<T>());
}

// Whether `value` converts to T exactly: integers must be in range, floats integral and in
// range for an integer T. Conversion to a floating-point T rounds.
template <class T, class Source>
bool fits(Source value) {
  if constexpr (std::is_floating_point_v<T>) {
    return true;
  } else if constexpr (std::is_integral_v<Source>) {
    return std::in_range<T>(value);
  } else {
    // 2^63 and 2^64 are exact doubles: compare against the half-open range [min, max + 1).
    const long double v = value;
    return std::isfinite(value) && std::trunc(value) == value &&
           v >= static_cast<long double>(std::numeric_limits<T>::min()) &&
           v < static_cast<long double>(std::numeric_limits<T>::max()) + 1.0L;
  }
}

// Converts `count` packed little-endian Source elements. Returns the index of the first element
// that does not fit, or `count`.
template <class T, class Source>
std::size_t convert(const std::byte* raw, std::size_t count, T* out) {
  for (std::size_t i = 0; i < count; ++i) {
    Source value;
    std::memcpy(&value, raw + i * sizeof(Source), sizeof(Source));
    if (!fits<T>(value)) return i;
    out[i] = static_cast<T>(value);
  }
  return count;
}

template <class T>
std::size_t convert_any(ElementType type, const std::byte* raw, std::size_t count, T* out) {
  switch (type) {
    case ElementType::Int8:
      return convert<T, std::int8_t>(raw, count, out);
    case ElementType::UInt8:
      return convert<T, std::uint8_t>(raw, count, out);
    case ElementType::Int16:
      return convert<T, std::int16_t>(raw, count, out);
    case ElementType::UInt16:
      return convert<T, std::uint16_t>(raw, count, out);
    case ElementType::Int32:
      return convert<T, std::int32_t>(raw, count, out);
    case ElementType::UInt32:
      return convert<T, std::uint32_t>(raw, count, out);
    case ElementType::Int64:
      return convert<T, std::int64_t>(raw, count, out);
    case ElementType::UInt64:
      return convert<T, std::uint64_t>(raw, count, out);
    case ElementType::Float32:
      return convert<T, float>(raw, count, out);
    case ElementType::Float64:
      return convert<T, double>(raw, count, out);
  }
  return 0;
}

// The element at `raw` as text, for messages.
std::string element_text(ElementType type, const std::byte* raw) {
  double as_double = 0;
  convert_any<double>(type, raw, 1, &as_double);
  if (type == ElementType::UInt64 || type == ElementType::Int64) {
    std::int64_t as_signed;
    std::memcpy(&as_signed, raw, 8);
    if (type == ElementType::Int64) return std::to_string(as_signed);
    return std::to_string(static_cast<std::uint64_t>(as_signed));
  }
  return fmt::format("{}", as_double);
}

}  // namespace

void Reader::FileCloser::operator()(std::FILE* file) const { std::fclose(file); }

Reader::Reader(std::filesystem::path path) : path_(std::move(path)) {
  const std::string name = path_.string();
  file_.reset(std::fopen(name.c_str(), "rb"));
  if (!file_) throw DataError(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path_, ec);
  if (ec) throw DataError(fmt::format("{}: cannot read its size: {}", name, ec.message()));

  // The prefix says how long the header is; read exactly that much (at most the file).
  std::string bytes(std::min<std::uint64_t>(file_size, kPrefixBytes), '\0');
  read_bytes(0, std::as_writable_bytes(std::span(bytes)));
  std::uint64_t header_bytes = bytes.size();
  if (bytes.size() == kPrefixBytes && bytes[6] >= 1 && bytes[6] <= 3) {
    const bool short_length = bytes[6] == 1;
    std::uint64_t text_size = 0;
    for (std::size_t i = 0; i < (short_length ? 2u : 4u); ++i) {
      text_size |= std::uint64_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    }
    header_bytes = std::min(file_size, (short_length ? 10 : 12) + text_size);
  }
  bytes.resize(header_bytes);
  read_bytes(0, std::as_writable_bytes(std::span(bytes)));
  header_ = parse_header(bytes, name);

  const std::uint64_t data_bytes = file_size - header_.data_offset;
  if (data_bytes != header_.data_bytes()) {
    throw DataError(fmt::format("{}: the data is {} bytes, but shape {} of {} needs {}", name,
                                data_bytes, format_shape(header_.shape), to_string(header_.type),
                                header_.data_bytes()));
  }
}

Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

void Reader::read_bytes(std::uint64_t offset, std::span<std::byte> out) {
  if (fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0 ||
      std::fread(out.data(), 1, out.size(), file_.get()) != out.size()) {
    throw DataError(fmt::format("{}: read error at byte {}", path_.string(), offset));
  }
}

template <class T>
void Reader::read_rows(std::uint64_t first, std::uint64_t count, std::span<T> out) {
  const std::uint64_t row_elements = row_size();
  if (first > rows() || count > rows() - first) {
    throw Error(fmt::format("{}: rows [{}, {}) requested, the array has {}", path_.string(), first,
                            first + count, rows()));
  }
  if (out.size() != count * row_elements) {
    throw Error(fmt::format("{}: output holds {} elements, {} rows need {}", path_.string(),
                            out.size(), count, count * row_elements));
  }
  const std::size_t item = element_size(header_.type);
  const std::uint64_t total = count * row_elements;
  const std::uint64_t block = std::max<std::uint64_t>(1, kBlockBytes / item);
  std::vector<std::byte> raw(std::min(total, block) * item);
  for (std::uint64_t done = 0; done < total;) {
    const std::uint64_t n = std::min(block, total - done);
    const std::uint64_t element = first * row_elements + done;
    read_bytes(header_.data_offset + element * item, std::span(raw.data(), n * item));
    const std::size_t bad = convert_any<T>(header_.type, raw.data(), n, out.data() + done);
    if (bad != n) {
      const std::uint64_t index = element + bad;
      throw DataError(
          fmt::format("{}: element {} (row {}) is {}, which does not fit in {}", path_.string(),
                      index, index / std::max<std::uint64_t>(row_elements, 1),
                      element_text(header_.type, raw.data() + bad * item), type_name<T>()));
    }
    done += n;
  }
}

#define OTHRUN_NPY_READ(T) \
  template void Reader::read_rows<T>(std::uint64_t, std::uint64_t, std::span<T>);
OTHRUN_NPY_READ(std::int8_t)
OTHRUN_NPY_READ(std::uint8_t)
OTHRUN_NPY_READ(std::int16_t)
OTHRUN_NPY_READ(std::uint16_t)
OTHRUN_NPY_READ(std::int32_t)
OTHRUN_NPY_READ(std::uint32_t)
OTHRUN_NPY_READ(std::int64_t)
OTHRUN_NPY_READ(std::uint64_t)
OTHRUN_NPY_READ(float)
OTHRUN_NPY_READ(double)
#undef OTHRUN_NPY_READ

}  // namespace othrun::npy
