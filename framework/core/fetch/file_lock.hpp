// An exclusive flock(2) on a lock file, held while one process downloads a file. huggingface_hub's
// `filelock` takes the same kind of lock on the same paths, so Python and othrun wait for each
// other.
#pragma once

#include <filesystem>

namespace othrun::fetch {

class FileLock {
 public:
  // Blocks until the lock is ours, saying once that it waits for another download of `what`.
  // Creates the lock file (and its folder). Throws FetchError naming the path on failure and
  // othrun::Interrupted after Ctrl-C.
  FileLock(const std::filesystem::path& path, const std::string& what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace othrun::fetch
