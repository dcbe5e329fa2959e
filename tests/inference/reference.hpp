// Test support for the inference tests: the Python reference (tests/python/reference_gpt.py) run
// into a temporary folder, and the relative-error measure the tests assert on.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <othrun/tensor.hpp>

namespace othrun::test {

// A folder of reference files made by reference_gpt.py, removed when the process exits.
struct ReferenceFiles {
  std::filesystem::path dir;
  std::string skip_reason;  // non-empty: /usr/bin/python3 lacks torch; the test must skip
  std::filesystem::path operator/(const std::string& name) const { return dir / name; }
};

// Runs the reference once per process and size ("small" or "full") with `games` games.
const ReferenceFiles& reference(const std::string& size, int games);

// Every tensor of a torch.save'd dict, by name.
std::map<std::string, HostTensor> load_tensors(const std::filesystem::path& path);

// max |got - expected| / max |expected| over the finite entries of `expected`; -inf entries
// (masked attention scores) must be -inf in `got` too. Returns +inf on a shape mismatch or a
// mismatched infinity, with the reason in `why`.
double relative_error(const HostTensor& got, const HostTensor& expected, std::string* why);

struct CommandOutput {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a shell command line, capturing its output.
CommandOutput run_command(const std::string& command);

// A fresh temporary folder, removed with the object.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace othrun::test
