#include "reliability_util.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace othrun::reliability {

std::string real_experiment(const std::string& store) {
  std::string yaml = "name: reliability\nstore: " + store +
                     "\nseed: 5\nsteps:\n"
                     "  - plugin: games\n    label: games\n    games: 100\n"
                     "  - plugin: random_directions\n    label: dirs\n    count: 2000\n"
                     "    dim: 64\n";
#ifdef OTHRUN_RELIABILITY_WITH_TORCH
  yaml += "  - plugin: inference\n    label: cache\n    games: games\n    model: " +
          std::string(OTHRUN_SOURCE_DIR) +
          "/models/othello_gpt_default.pth\n    hooks: [blocks.0.hook_resid_post]\n"
          "  - plugin: max_activation\n    label: maxact\n    games: games\n"
          "    activations: cache:blocks.0.hook_resid_post\n    index: 3\n";
#endif
  yaml += "  - plugin: board\n    label: boards\n    games: games\n";
  return yaml;
}

std::vector<std::string> real_steps() {
#ifdef OTHRUN_RELIABILITY_WITH_TORCH
  return {"games", "dirs", "cache", "maxact", "boards"};
#else
  return {"games", "dirs", "boards"};
#endif
}

std::string counter_experiment(const std::string& store, int second_rows, int row_delay_ms) {
  return "name: counters\nstore: " + store +
         "\nseed: 3\nsteps:\n"
         "  - plugin: test_counter\n    label: first\n    rows: 4\n"
         "  - plugin: test_counter\n    label: second\n    source: first\n    rows: " +
         std::to_string(second_rows) + "\n    row_delay_ms: " + std::to_string(row_delay_ms) + "\n";
}

Process::Process(const std::vector<std::string>& arguments, const fs::path& log, Options options)
    : log_(log) {
  std::vector<std::string> argv = {OTHRUN_EXE,
                                   "--plugin-path",
                                   OTHRUN_TEST_PLUGIN_DIR,
                                   "--plugin-path",
                                   OTHRUN_PLUGIN_DIR,
                                   "--threads",
                                   "1"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::vector<char*> pointers;
  for (auto& argument : argv) pointers.push_back(argument.data());
  pointers.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    for (const auto& variable : options.env) putenv(const_cast<char*>(variable.c_str()));
    if (options.file_size_limit) {
      ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit then fail with EFBIG instead
      const rlimit limit{static_cast<rlim_t>(*options.file_size_limit),
                         static_cast<rlim_t>(*options.file_size_limit)};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    execv(OTHRUN_EXE, pointers.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Process::signal(int number) const { ::kill(pid_, number); }

int Process::wait() {
  if (exit_code_) return *exit_code_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return *exit_code_;
}

bool Process::running() {
  if (exit_code_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

std::string Process::output() const { return read_file(log_); }

Process::Options with_fault(const std::string& injection) {
  Process::Options options;
  options.env.push_back("OTHRUN_FAULT=" + injection);
  return options;
}

Process::Options with_file_size_limit(long bytes) {
  Process::Options options;
  options.file_size_limit = bytes;
  return options;
}

Result run(const std::vector<std::string>& arguments, Process::Options options) {
  const fs::path log =
      fs::temp_directory_path() / ("othrun-reliability-" + std::to_string(getpid()) + ".log");
  Process process(arguments, log, std::move(options));
  Result result{process.wait(), process.output()};
  fs::remove(log);
  return result;
}

namespace {

// Owns an HDF5 id.
struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Id() {
    if (id >= 0) close(id);
  }
};

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("HDF5: " + what);
}

struct Walk {
  std::string label;
  std::map<std::string, std::string>* out;
};

std::string describe_dataset(hid_t group, const char* name) {
  Id dataset{H5Dopen2(group, name, H5P_DEFAULT), H5Dclose};
  require(dataset.id >= 0, std::string("opening dataset ") + name);
  Id space{H5Dget_space(dataset.id), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space.id);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  std::string text = "shape";
  for (hsize_t d : dims) {
    text += ' ';
    text += std::to_string(d);
  }
  Id type{H5Dget_type(dataset.id), H5Tclose};
  const H5T_class_t type_class = H5Tget_class(type.id);
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    return text + " class " + std::to_string(type_class) + " (contents not compared)";
  }
  Id native{H5Tget_native_type(type.id, H5T_DIR_ASCEND), H5Tclose};
  const auto points = static_cast<size_t>(H5Sget_simple_extent_npoints(space.id));
  std::string bytes(points * H5Tget_size(native.id), '\0');
  if (points > 0) {
    require(H5Dread(dataset.id, native.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) >= 0,
            std::string("reading ") + name);
  }
  return text + " class " + std::to_string(type_class) + " size " +
         std::to_string(H5Tget_size(native.id)) + " data " + bytes;
}

herr_t visit(hid_t group, const char* name, const H5O_info_t* info, void* data) {
  auto& walk = *static_cast<Walk*>(data);
  const std::string key = walk.label + "/" + name;
  if (info->type == H5O_TYPE_DATASET) {
    (*walk.out)[key] = describe_dataset(group, name);
  } else {
    (*walk.out)[key] = "group";
  }
  return 0;
}

herr_t collect(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

}  // namespace

std::vector<std::string> index_links(const fs::path& index) {
  Id file{H5Fopen(index.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  require(file.id >= 0, "opening " + index.string());
  std::vector<std::string> links;
  hsize_t position = 0;
  require(H5Literate(file.id, H5_INDEX_NAME, H5_ITER_INC, &position, collect, &links) >= 0,
          "listing " + index.string());
  return links;
}

std::map<std::string, std::string> snapshot(const fs::path& index) {
  std::map<std::string, std::string> objects;
  Id file{H5Fopen(index.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  require(file.id >= 0, "opening " + index.string());
  for (const auto& label : index_links(index)) {
    Id group{H5Gopen2(file.id, label.c_str(), H5P_DEFAULT), H5Gclose};
    require(group.id >= 0, "following the link " + label + " of " + index.string());
    Walk walk{label, &objects};
    require(H5Ovisit2(group.id, H5_INDEX_NAME, H5_ITER_INC, visit, &walk, H5O_INFO_BASIC) >= 0,
            "reading product " + label);
  }
  return objects;
}

std::string root_attribute(const fs::path& path, const std::string& name) {
  Id file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  require(file.id >= 0, "opening " + path.string());
  Id attr{H5Aopen_by_name(file.id, "/", name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  require(attr.id >= 0, "opening attribute " + name + " of " + path.string());
  Id type{H5Aget_type(attr.id), H5Tclose};
  require(H5Tis_variable_str(type.id) > 0, name + " is not a variable-length string");
  char* value = nullptr;
  require(H5Aread(attr.id, type.id, &value) >= 0, "reading " + name);
  std::string text = value ? value : "";
  H5free_memory(value);
  return text;
}

void delete_root_attribute(const fs::path& path, const std::string& name) {
  Id file{H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose};
  require(file.id >= 0, "opening " + path.string());
  require(H5Adelete_by_name(file.id, "/", name.c_str(), H5P_DEFAULT) >= 0, "deleting " + name);
}

void write_foreign_hdf5(const fs::path& path) {
  Id file{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
  require(file.id >= 0, "creating " + path.string());
  const hsize_t size = 4;
  Id space{H5Screate_simple(1, &size, nullptr), H5Sclose};
  Id dataset{
      H5Dcreate2(file.id, "values", H5T_STD_I32LE, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose};
  const int values[4] = {1, 2, 3, 4};
  require(H5Dwrite(dataset.id, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0,
          "writing " + path.string());
}

std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    for (const std::string suffix : {".partial", ".replaced", ".tmp"}) {
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        found.push_back(entry.path().string());
      }
    }
  }
  return found;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool wait_for_file(const fs::path& path) {
  for (int i = 0; i < 1200; ++i) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace othrun::reliability
