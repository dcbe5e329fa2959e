#include "checkpoint/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <othrun/error.hpp>

namespace othrun::checkpoint {

namespace {

constexpr std::size_t kWriteBuffer = 1 << 20;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

InputFile::InputFile(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw DataError(path.string() + ": cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw DataError(path.string() + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::check_range(std::uint64_t offset, std::size_t n, const std::string& what) const {
  if (offset > size_ || n > size_ - offset) {
    throw DataError(path_.string() + ": " + what + ": truncated: needs bytes " +
                    std::to_string(offset) + ".." + std::to_string(offset + n) + " of a " +
                    std::to_string(size_) + "-byte file");
  }
}

void InputFile::read(std::uint64_t offset, std::span<std::byte> dst,
                     const std::string& what) const {
  check_range(offset, dst.size(), what);
  std::size_t done = 0;
  while (done < dst.size()) {
    ssize_t n =
        ::pread(fd_, dst.data() + done, dst.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw DataError(path_.string() + ": " + what + ": read failed" +
                      (n < 0 ? ": " + errno_text() : std::string(": file shrank")));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::vector<std::byte> InputFile::read(std::uint64_t offset, std::size_t n,
                                       const std::string& what) const {
  check_range(offset, n, what);  // before allocating: `n` may come from a corrupt header
  std::vector<std::byte> out(n);
  read(offset, out, what);
  return out;
}

OutputFile::OutputFile(const std::filesystem::path& path)
    : path_(path), partial_(path.string() + ".partial") {
  // Output paths come from experiment files: create the folder like the store does.
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) fail("cannot create the folder " + path.parent_path().string() + ": " + ec.message());
  fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create " + partial_.string() + ": " + errno_text());
  buffer_.reserve(kWriteBuffer);
}

OutputFile::~OutputFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(partial_.c_str());
}

void OutputFile::write(std::span<const std::byte> bytes) {
  position_ += bytes.size();
  if (buffer_.size() + bytes.size() <= kWriteBuffer) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return;
  }
  flush();
  if (bytes.size() < kWriteBuffer) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return;
  }
  while (!bytes.empty()) {  // large blocks (tensor data) skip the buffer
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write failed: " + errno_text());
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

void OutputFile::flush() {
  std::span<const std::byte> rest(buffer_);
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write failed: " + errno_text());
    rest = rest.subspan(static_cast<std::size_t>(n));
  }
  buffer_.clear();
}

void OutputFile::commit() {
  flush();
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(partial_.c_str());
    fail("close failed: " + errno_text());
  }
  fd_ = -1;
  if (::rename(partial_.c_str(), path_.c_str()) != 0) {
    std::string error = errno_text();
    ::unlink(partial_.c_str());
    fail("cannot rename " + partial_.string() + ": " + error);
  }
}

void OutputFile::fail(const std::string& what) const { throw Error(path_.string() + ": " + what); }

}  // namespace othrun::checkpoint
