// Writes uncompressed zip archives the way torch.save does: each entry's data starts on a 64-byte
// boundary (padding in an "FB" extra field), zip64 records where sizes or offsets need them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "checkpoint/file_io.hpp"

namespace othrun::checkpoint {

class ZipWriter {
 public:
  // force_zip64 writes zip64 fields for every entry, so tests can cover them with small files.
  explicit ZipWriter(const std::filesystem::path& path, bool force_zip64 = false);

  void add(const std::string& name, std::span<const std::byte> data);
  // Writes the central directory and renames the file into place.
  void commit();

 private:
  struct Record {
    std::string name;
    std::uint64_t size;
    std::uint64_t offset;
    std::uint32_t crc;
  };
  bool entry_needs_zip64(std::uint64_t size, std::uint64_t offset) const;
  void write_central_header(std::vector<std::byte>& out, const Record& r) const;
  void write_end_records(std::vector<std::byte>& out, std::uint64_t cd_offset,
                         std::uint64_t cd_size) const;

  OutputFile out_;
  bool force_zip64_;
  std::vector<Record> records_;
};

}  // namespace othrun::checkpoint
