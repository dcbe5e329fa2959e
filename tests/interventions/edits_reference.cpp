#include "edits_reference.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace othrun::test {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

EditsReference make() {
  EditsReference ref;
  const std::string python = OTHRUN_PYTHON3;
  if (python.empty() || !fs::exists(python)) {
    ref.skip_reason = "no /usr/bin/python3";
    return ref;
  }
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
    ref.skip_reason = python + " has no torch (python3-torch)";
    return ref;
  }
  const fs::path scripts = fs::path(OTHRUN_SOURCE_DIR) / "tests" / "python";
  const fs::path script = scripts / "reference_edits.py";
  // Keyed by both scripts: the model comes from reference_gpt.py.
  const std::uint64_t key = fnv1a(read_text(script) + read_text(scripts / "reference_gpt.py"));
  ref.dir = fs::path(OTHRUN_BINARY_DIR) / "tests" / "edits-reference" / fmt::format("{:016x}", key);
  if (fs::exists(ref.dir)) return ref;
  // Written to a temporary folder and renamed: tests running in parallel never see half of it.
  const fs::path tmp = ref.dir.string() + fmt::format(".tmp{}", getpid());
  fs::create_directories(tmp);
  const std::string command = fmt::format("{} {} {}", python, script.string(), tmp.string());
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  std::error_code ec;
  fs::rename(tmp, ref.dir, ec);
  if (ec) fs::remove_all(tmp, ec);  // another test won the race: its folder is the same
  return ref;
}

}  // namespace

const EditsReference& edits_reference() {
  static const EditsReference ref = make();
  return ref;
}

}  // namespace othrun::test
