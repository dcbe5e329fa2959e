// Reads the uncompressed ("stored") zip archives torch.save writes: central directory, zip64
// records, stored entries with CRC checks. Compressed or encrypted entries are rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checkpoint/file_io.hpp"

namespace othrun::checkpoint {

struct ZipEntry {
  std::string name;
  std::uint64_t size = 0;  // uncompressed
  std::uint64_t compressed_size = 0;
  std::uint64_t header_offset = 0;  // of its local file header
  std::uint32_t crc32 = 0;
  std::uint16_t method = 0;  // 0: stored
  std::uint16_t flags = 0;
};

class ZipReader {
 public:
  // Opens the archive and reads its central directory; throws DataError naming the file.
  explicit ZipReader(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  std::uint64_t file_size() const { return file_.size(); }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;

  // Reads a stored entry into `dst` (exactly entry.size bytes) and checks its CRC-32.
  void read(const ZipEntry& entry, std::span<std::byte> dst) const;
  std::vector<std::byte> read(const ZipEntry& entry) const;

 private:
  struct Directory {
    std::uint64_t entries = 0;
    std::uint64_t size = 0;
    std::uint64_t offset = 0;
    std::uint64_t end = 0;  // where the records after the central directory start
  };
  Directory find_directory() const;
  void read_zip64_directory(std::uint64_t eocd_offset, Directory& dir) const;
  void parse_directory(const Directory& dir);
  void parse_zip64_extra(std::span<const std::byte> extra, ZipEntry& entry) const;
  std::uint64_t data_offset(const ZipEntry& entry) const;
  [[noreturn]] void fail(const std::string& what) const;

  InputFile file_;
  std::uint64_t directory_offset_ = 0;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace othrun::checkpoint
