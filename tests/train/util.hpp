// Helpers of the training tests: temporary folders, tiny configs, Debian's python3 with torch.
#pragma once

#include <othrun/torch/model_config.hpp>

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

namespace othrun::train_test {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("othrun-train-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline gpt::ModelConfig tiny_config() {
  gpt::ModelConfig c;
  c.n_layers = 2;
  c.d_model = 16;
  c.n_heads = 2;
  c.d_head = 8;
  c.d_mlp = 32;
  return c;
}

// Whether /usr/bin/python3 can import torch (the interop tests skip otherwise).
inline bool python_has_torch() {
  const std::string python = OTHRUN_PYTHON3;
  if (python.empty()) return false;
  const std::string command = python + " -c 'import torch' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

// Runs tests/train/<script> with the arguments; returns the exit code, appends the output.
inline int run_python(const std::string& script, const std::string& args, std::string& output) {
  const std::string command = std::string(OTHRUN_PYTHON3) + " " + OTHRUN_SOURCE_DIR +
                              "/tests/train/" + script + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace othrun::train_test
