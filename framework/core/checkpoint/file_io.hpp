// Plain file access for the checkpoint readers and writers; every error names the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace othrun::checkpoint {

// A regular file read at explicit offsets (no shared position, so reads need no seeking state).
class InputFile {
 public:
  // Throws DataError if the file cannot be opened or is not a regular file.
  explicit InputFile(const std::filesystem::path& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t size() const { return size_; }

  // Reads exactly `dst.size()` bytes at `offset`; throws DataError naming `what` if the file ends
  // first or the read fails.
  void read(std::uint64_t offset, std::span<std::byte> dst, const std::string& what) const;
  std::vector<std::byte> read(std::uint64_t offset, std::size_t n, const std::string& what) const;

 private:
  void check_range(std::uint64_t offset, std::size_t n, const std::string& what) const;

  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Writes `path` atomically: the bytes go to `path`.partial, which commit() renames over `path`.
// Destroyed without commit() (an exception), it removes the partial file.
class OutputFile {
 public:
  explicit OutputFile(const std::filesystem::path& path);  // throws othrun::Error
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::span<const std::byte> bytes);
  std::uint64_t position() const { return position_; }
  void commit();

 private:
  void flush();
  [[noreturn]] void fail(const std::string& what) const;

  std::filesystem::path path_;
  std::filesystem::path partial_;
  int fd_ = -1;
  std::uint64_t position_ = 0;
  std::vector<std::byte> buffer_;
};

}  // namespace othrun::checkpoint
