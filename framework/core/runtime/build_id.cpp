#include "runtime/build_id.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

#include "runtime/content_hash.hpp"

namespace othrun {
namespace {

constexpr std::uint32_t kPtNote = 4;
constexpr std::uint32_t kNtGnuBuildId = 3;

template <class T>
bool read_at(std::ifstream& in, std::uint64_t offset, T& value) {
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(&value), sizeof(T));
  return static_cast<bool>(in);
}

std::uint64_t align_up(std::uint64_t n, std::uint64_t align) {
  return (n + align - 1) / align * align;
}

// Scans one PT_NOTE segment's bytes for the GNU build id.
std::optional<std::string> find_build_id(const std::vector<unsigned char>& notes,
                                         std::uint64_t align) {
  std::uint64_t at = 0;
  while (at + 12 <= notes.size()) {
    std::uint32_t name_size, desc_size, type;
    std::memcpy(&name_size, &notes[at], 4);
    std::memcpy(&desc_size, &notes[at + 4], 4);
    std::memcpy(&type, &notes[at + 8], 4);
    const std::uint64_t name_at = at + 12;
    const std::uint64_t desc_at = name_at + align_up(name_size, align);
    const std::uint64_t next = desc_at + align_up(desc_size, align);
    if (desc_at + desc_size > notes.size()) return std::nullopt;
    if (type == kNtGnuBuildId && name_size == 4 && std::memcmp(&notes[name_at], "GNU", 4) == 0) {
      std::string hex;
      for (std::uint64_t i = 0; i < desc_size; ++i)
        hex += fmt::format("{:02x}", notes[desc_at + i]);
      return hex;
    }
    at = next;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> elf_build_id(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char ident[16];
  if (!in.read(reinterpret_cast<char*>(ident), 16)) return std::nullopt;
  // ELF64, little-endian (x86-64; the only hosts othrun builds for).
  if (std::memcmp(ident,
                  "\x7f"
                  "ELF",
                  4) != 0 ||
      ident[4] != 2 || ident[5] != 1) {
    return std::nullopt;
  }
  std::uint64_t ph_offset;
  std::uint16_t ph_size, ph_count;
  if (!read_at(in, 0x20, ph_offset) || !read_at(in, 0x36, ph_size) || !read_at(in, 0x38, ph_count))
    return std::nullopt;
  if (ph_size < 56) return std::nullopt;
  for (std::uint16_t i = 0; i < ph_count; ++i) {
    const std::uint64_t header = ph_offset + std::uint64_t{i} * ph_size;
    std::uint32_t type;
    std::uint64_t offset, file_size, align;
    if (!read_at(in, header, type) || !read_at(in, header + 8, offset) ||
        !read_at(in, header + 32, file_size) || !read_at(in, header + 48, align)) {
      return std::nullopt;
    }
    if (type != kPtNote || file_size > (1u << 20)) continue;
    std::vector<unsigned char> notes(file_size);
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(notes.data()), static_cast<std::streamsize>(file_size)))
      return std::nullopt;
    if (auto id = find_build_id(notes, align == 8 ? 8 : 4)) return id;
  }
  return std::nullopt;
}

std::string plugin_build_id(const std::filesystem::path& path) {
  if (auto id = elf_build_id(path)) return "gnu-build-id:" + *id;
  return "sha256:" + sha256_file(path);
}

}  // namespace othrun
