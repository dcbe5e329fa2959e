// Helpers for the host's tests: temporary folders, files, and running the othrun executable.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace othrun::testing {

// A fresh folder under the system temp folder, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& text);
// The whole file, byte for byte ("" when it cannot be read).
std::string read_text(const std::filesystem::path& path);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line and captures its output and exit code.
CommandResult run_command(const std::string& command);
// Runs the othrun executable with the test plugin folders first on its search path.
CommandResult run_othrun(const std::string& arguments);

// Quotes a string for /bin/sh.
std::string shell_quote(const std::string& text);

}  // namespace othrun::testing
