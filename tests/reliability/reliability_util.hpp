// Helpers of the reliability suite: the experiments it runs, running the othrun executable (in
// the background, with a file-size limit, with fault injection), and reading stores through the
// HDF5 C API, independently of othrun's own store code.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace othrun::reliability {

namespace fs = std::filesystem;

// The real small experiment, store `store` (relative to the experiment file): 100 synthetic
// games, 2000 random directions, the boards of one game and, with the LibTorch plugins, the
// activation cache of the shipped model and a max-activation analysis of it. About 1 s.
std::string real_experiment(const std::string& store = "out/rel.h5");
// Its step labels in order; `kRealSteps` of them.
std::vector<std::string> real_steps();

// Two test_counter steps, 'first' (4 rows) and 'second' (reads 'first'); `second_rows` rows of
// `row_delay_ms` each, one chunk per row.
std::string counter_experiment(const std::string& store, int second_rows = 3, int row_delay_ms = 0);

// A running (or finished) othrun process.
class Process {
 public:
  struct Options {
    std::vector<std::string> env;         // NAME=VALUE added to the environment
    std::optional<long> file_size_limit;  // RLIMIT_FSIZE in bytes (SIGXFSZ ignored): "disk full"
  };
  // Starts `othrun --plugin-path ... --threads 1 ARGUMENTS...`, stdout and stderr into `log`.
  Process(const std::vector<std::string>& arguments, const fs::path& log, Options options = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  void signal(int number) const;
  // Waits for the end; the exit code, or 128 + the signal that ended it.
  int wait();
  bool running();
  std::string output() const;  // what it wrote so far

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  fs::path log_;
};

// Options that inject a fault (runtime/fault.hpp): "<point>[#<n>]:<kill|int|fail>".
Process::Options with_fault(const std::string& injection);
// Options that limit the size of every file othrun writes: a disk that is full at that size.
Process::Options with_file_size_limit(long bytes);

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Result {
  int exit_code;
  std::string output;
};
// Runs othrun to the end.
Result run(const std::vector<std::string>& arguments, Process::Options options = {});

// Every object of every product the index links: "label/path" -> "group", or shape, element type
// and the raw bytes of a dataset. Attributes (timings, ids) are left out.
std::map<std::string, std::string> snapshot(const fs::path& index);
// The members (links) of a store index, sorted.
std::vector<std::string> index_links(const fs::path& index);
// A string attribute of the root group of an HDF5 file.
std::string root_attribute(const fs::path& file, const std::string& name);
// Deletes an attribute of the root group of an HDF5 file.
void delete_root_attribute(const fs::path& file, const std::string& name);
// Writes an HDF5 file with one dataset and none of othrun's marks.
void write_foreign_hdf5(const fs::path& path);

// Files under `dir` that no run may leave behind: *.partial, *.replaced, *.tmp.
std::vector<std::string> leftovers(const fs::path& dir);
std::string read_file(const fs::path& path);
// Polls until `path` exists (up to 60 s); false if it never does.
bool wait_for_file(const fs::path& path);

}  // namespace othrun::reliability
