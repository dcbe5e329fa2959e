#include "fetch/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include "fetch/reference.hpp"

namespace othrun::fetch {

FileLock::FileLock(const std::filesystem::path& path, const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw FetchError("cannot open the lock file " + path.string() + ": " + std::strerror(errno));
  }
  bool said = false;
  // Polled rather than blocking, so that Ctrl-C still ends the wait.
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const int error = errno;
      ::close(fd_);
      throw FetchError("cannot lock " + path.string() + ": " + std::strerror(error));
    }
    if (!said) {
      log::info("waiting for another download of {} to finish (lock {})", what, path.string());
      said = true;
    }
    if (interrupt_requested()) {
      ::close(fd_);
      throw Interrupted();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace othrun::fetch
