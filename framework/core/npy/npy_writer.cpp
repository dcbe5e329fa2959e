// Writing .npy files: the header numpy itself writes (padded so the data starts on a 64-byte
// boundary), then the raw little-endian data.
#include <othrun/error.hpp>
#include <othrun/npy.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace othrun::npy {

namespace {

constexpr std::size_t kAlignment = 64;

// Magic, version and length prefix followed by the padded dict text.
std::string header_bytes(ElementType type, const std::vector<std::uint64_t>& shape, int version) {
  std::string text = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 descr(type), format_shape(shape));
  if (version == 0) version = text.size() + 11 < 65536 ? 1 : 2;
  if (version < 1 || version > 3) {
    throw Error(fmt::format("npy::write: unsupported format version {}", version));
  }
  const std::size_t prefix = version == 1 ? 10 : 12;
  const std::size_t padded = (prefix + text.size() + 1 + kAlignment - 1) / kAlignment * kAlignment;
  text.append(padded - prefix - text.size() - 1, ' ');
  text += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(version);
  bytes += '\0';
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < prefix - 8; ++i) bytes += static_cast<char>((size >> (8 * i)) & 0xff);
  return bytes + text;
}

}  // namespace

template <class T>
void write(const std::filesystem::path& path, const std::vector<std::uint64_t>& shape,
           std::span<const T> data, int version) {
  std::uint64_t count = 1;
  for (auto extent : shape) count *= extent;
  if (count != data.size()) {
    throw Error(fmt::format("{}: shape {} needs {} elements, got {}", path.string(),
                            format_shape(shape), count, data.size()));
  }
  const std::string header = header_bytes(element_type_of<T>(), shape, version);
  const std::filesystem::path partial = path.string() + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  if (file == nullptr) {
    throw Error(fmt::format("{}: cannot write: {}", partial.string(), std::strerror(errno)));
  }
  const bool ok = std::fwrite(header.data(), 1, header.size(), file) == header.size() &&
                  std::fwrite(data.data(), sizeof(T), data.size(), file) == data.size();
  if (std::fclose(file) != 0 || !ok) {
    std::filesystem::remove(partial);
    throw Error(fmt::format("{}: write failed", partial.string()));
  }
  std::filesystem::rename(partial, path);
}

#define OTHRUN_NPY_WRITE(T)                                                               \
  template void write<T>(const std::filesystem::path&, const std::vector<std::uint64_t>&, \
                         std::span<const T>, int);
OTHRUN_NPY_WRITE(std::int8_t)
OTHRUN_NPY_WRITE(std::uint8_t)
OTHRUN_NPY_WRITE(std::int16_t)
OTHRUN_NPY_WRITE(std::uint16_t)
OTHRUN_NPY_WRITE(std::int32_t)
OTHRUN_NPY_WRITE(std::uint32_t)
OTHRUN_NPY_WRITE(std::int64_t)
OTHRUN_NPY_WRITE(std::uint64_t)
OTHRUN_NPY_WRITE(float)
OTHRUN_NPY_WRITE(double)
#undef OTHRUN_NPY_WRITE

}  // namespace othrun::npy
