// SHA-256 of files and text, for the fingerprints that decide reruns. SHA-256 rather than a faster
// 64-bit hash so that a recorded hash can be checked with `sha256sum` by anyone (docs/store.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace othrun {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  // The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void block(const unsigned char* data);
  std::array<std::uint32_t, 8> state_;
  std::array<unsigned char, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes
};

std::string sha256_hex(std::string_view text);
// Reads `path` in full; checks for Ctrl-C between chunks. Throws othrun::Error naming the file.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace othrun
