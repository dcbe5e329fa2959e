// Helpers shared by the checkpoint tests: fixture paths, scratch folders, Python interop.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace othrun::test {

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(OTHRUN_SOURCE_DIR) / "tests/fixtures/checkpoint" / name;
}

// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "othrun-ckpt-" + std::to_string(::getpid());
    if (info) name += std::string("-") + info->test_suite_name() + "-" + info->name();
    std::replace(name.begin(), name.end(), '/', '_');  // parameterised tests: "Suite/Test/0"
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Whether OTHRUN_PYTHON3 (Debian's /usr/bin/python3) can import torch.
inline bool python_has_torch() {
  static const bool has = [] {
    const std::string python = OTHRUN_PYTHON3;
    if (python.empty() || python.find("NOTFOUND") != std::string::npos) return false;
    return std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
  }();
  return has;
}

// Runs `script` with OTHRUN_PYTHON3 and `args`; returns its exit status (output goes to the log).
inline int run_python(const std::filesystem::path& dir, const std::string& script,
                      const std::vector<std::string>& args) {
  const auto file = dir / "script.py";
  write_file(file, script);
  std::string command = std::string(OTHRUN_PYTHON3) + " " + file.string();
  for (const auto& a : args) command += " '" + a + "'";
  return std::system(command.c_str());
}

}  // namespace othrun::test
