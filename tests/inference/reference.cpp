#include "reference.hpp"

#include <othrun/pth.hpp>

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <stdexcept>

namespace othrun::test {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / fmt::format("othrun-infer-{}-{:08x}", getpid(), rd());
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::string python() { return OTHRUN_PYTHON3; }

std::string torch_missing_reason() {
  if (python().empty() || !fs::exists(python())) return "no /usr/bin/python3";
  const std::string probe = python() + " -c 'import torch, numpy' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) return python() + " has no torch (python3-torch)";
  return "";
}

}  // namespace

namespace {

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string script_path() {
  return std::string(OTHRUN_SOURCE_DIR) + "/tests/python/reference_gpt.py";
}

void generate(const fs::path& dir, const std::string& size, int games) {
  const std::string command =
      fmt::format("{} {} {} --size {} --games {}{}", python(), script_path(), dir.string(), size,
                  games, size == "full" ? " --minimal" : "");
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// The small reference is cached in the build tree, keyed by the script's text, so the many small
// tests (one process each under ctest) run Python once. Written to a temporary folder and renamed,
// so tests running in parallel never see half a folder.
fs::path cached_small_dir(int games) {
  std::ifstream in(script_path());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return fs::path(OTHRUN_BINARY_DIR) / "tests" / "inference-reference" /
         fmt::format("small-{}-{:016x}", games, fnv1a(text));
}

fs::path cached_small(int games) {
  const fs::path dir = cached_small_dir(games);
  if (fs::exists(dir)) return dir;
  const fs::path tmp = dir.string() + fmt::format(".tmp{}", getpid());
  fs::create_directories(tmp);
  generate(tmp, "small", games);
  std::error_code ec;
  fs::rename(tmp, dir, ec);
  if (ec) fs::remove_all(tmp, ec);  // another test won the race: its folder is the same
  return dir;
}

}  // namespace

const ReferenceFiles& reference(const std::string& size, int games) {
  // One folder per size, alive until the process exits (static storage).
  static std::map<std::string, std::pair<std::unique_ptr<ScratchDir>, ReferenceFiles>> made;
  auto it = made.find(size);
  if (it != made.end()) return it->second.second;
  auto& entry = made[size];
  if (size == "small" && fs::exists(cached_small_dir(games))) {
    entry.second.dir = cached_small_dir(games);  // made earlier: no need to ask Python again
    return entry.second;
  }
  entry.second.skip_reason = torch_missing_reason();
  if (!entry.second.skip_reason.empty()) return entry.second;
  if (size == "small") {
    entry.second.dir = cached_small(games);
  } else {
    entry.first = std::make_unique<ScratchDir>();  // full size: ~300 MB, not kept
    entry.second.dir = entry.first->path();
    generate(entry.second.dir, size, games);
  }
  return entry.second;
}

CommandOutput run_command(const std::string& command) {
  CommandOutput out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.output.append(buffer, n);
  const int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::map<std::string, HostTensor> load_tensors(const fs::path& path) {
  std::map<std::string, HostTensor> out;
  for (const NamedTensor& t : load_pth(path).tensors) out[t.name] = t.tensor;
  return out;
}

double relative_error(const HostTensor& got, const HostTensor& expected, std::string* why) {
  if (got.shape() != expected.shape()) {
    *why = "shape " + shape_string(got.shape()) + " != " + shape_string(expected.shape());
    return INFINITY;
  }
  const std::vector<double> a = got.to_vector<double>(), b = expected.to_vector<double>();
  double max_diff = 0, max_ref = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isinf(b[i])) {
      if (a[i] != b[i]) {
        *why = fmt::format("element {}: {} where the reference has {}", i, a[i], b[i]);
        return INFINITY;
      }
      continue;
    }
    if (std::isnan(a[i]) || std::isinf(a[i])) {
      *why = fmt::format("element {}: {} where the reference has {}", i, a[i], b[i]);
      return INFINITY;
    }
    max_diff = std::max(max_diff, std::abs(a[i] - b[i]));
    max_ref = std::max(max_ref, std::abs(b[i]));
  }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

}  // namespace othrun::test
