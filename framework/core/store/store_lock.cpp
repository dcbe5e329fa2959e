// The store's advisory lock: flock on <store>.d/othrun.lock, which holds the holder's pid.
#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>
#include <othrun/store.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace fs = std::filesystem;

namespace othrun {
namespace {

// The pid the holder wrote into the lock file; 0 when there is none (yet).
long holder_pid(int fd) {
  char text[32] = {};
  const ssize_t size = pread(fd, text, sizeof text - 1, 0);
  return size > 0 ? std::strtol(text, nullptr, 10) : 0;
}

std::string describe_holder(long pid) {
  return pid > 0 ? "pid " + std::to_string(pid) : "pid unknown";
}

}  // namespace

fs::path StoreLock::lock_path_for(const fs::path& index_path) {
  return Store::product_dir_for(index_path) / "othrun.lock";
}

StoreLock::StoreLock(const fs::path& index_path, bool wait) {
  const fs::path path = lock_path_for(index_path);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  // A store folder the user may not write can still be locked (and is then read-only anyway).
  if (fd_ < 0) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw StoreError("cannot open the store's lock file " + path.string() + ": " +
                     std::strerror(errno));
  }
  bool told = false;
  while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EINTR) continue;
    if (error != EWOULDBLOCK) {
      ::close(fd_);
      throw StoreError("cannot lock the store " + index_path.string() + " (" + path.string() +
                       "): " + std::strerror(error));
    }
    const long pid = holder_pid(fd_);
    if (!wait) {
      ::close(fd_);
      throw StoreBusy("store " + index_path.string() + " is in use by another othrun run (" +
                          describe_holder(pid) + "); nothing was run. Use --wait to wait for it",
                      pid);
    }
    if (!told) {
      log::info("store {} is in use by another othrun run ({}): waiting for it (--wait)",
                index_path.string(), describe_holder(pid));
      told = true;
    }
    if (interrupt_requested()) {
      ::close(fd_);
      throw Interrupted();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // Read-only lock file: the lock holds all the same; a waiting run reports "pid unknown".
  }
}

StoreLock::~StoreLock() {
  if (fd_ < 0) return;
  // Emptied before unlocking, so that the file never names a process that no longer holds it.
  if (ftruncate(fd_, 0) != 0) {
    // Read-only lock file: it names the last holder until the next one writes its pid.
  }
  ::close(fd_);
}

}  // namespace othrun
