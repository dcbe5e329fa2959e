#include "fake_hub.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace othrun::testing {

FakeHub::FakeHub(const fs::path& dir, const nlohmann::json& spec) : dir_(dir / "fake_hub") {
  fs::create_directories(dir_);
  set_spec(spec);
  std::ofstream(dir_ / "requests.log").close();
  const std::string script = std::string(OTHRUN_SOURCE_DIR) + "/tests/fetch/fake_hub.py";
  const std::string spec_path = (dir_ / "spec.json").string();
  const std::string log_path = (dir_ / "requests.log").string();
  const std::string port_path = (dir_ / "port").string();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl(OTHRUN_PYTHON3, "python3", script.c_str(), "--spec", spec_path.c_str(), "--log",
            log_path.c_str(), "--port-file", port_path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(port_path)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the fake Hub exited at start (is python3 at " +
                               std::string(OTHRUN_PYTHON3) + "?)");
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no fake Hub port");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ifstream(port_path) >> port_;
}

FakeHub::~FakeHub() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void FakeHub::set_spec(const nlohmann::json& spec) {
  const fs::path temporary = dir_ / "spec.json.tmp";
  std::ofstream(temporary) << spec.dump(2);
  fs::rename(temporary, dir_ / "spec.json");
}

std::vector<LoggedRequest> FakeHub::requests() const {
  std::vector<LoggedRequest> out;
  std::ifstream in(dir_ / "requests.log");
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto entry = nlohmann::json::parse(line);
    out.push_back({entry["method"], entry["path"], entry["range"], entry["authorization"]});
  }
  return out;
}

int FakeHub::count(const std::string& method, const std::string& prefix) const {
  int n = 0;
  for (const auto& request : requests()) {
    if (request.method == method && request.path.rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

void FakeHub::clear_log() { std::ofstream(dir_ / "requests.log", std::ios::trunc).close(); }

fetch::Settings test_settings(const fs::path& dir, const std::string& endpoint) {
  fetch::Settings settings;
  settings.hub_cache = dir / "hf" / "hub";
  settings.url_cache = dir / "othrun-cache" / "url";
  settings.endpoint = endpoint;
  settings.metadata_timeout_s = 5;
  settings.download_timeout_s = 5;
  settings.retries = 3;
  settings.retry_delay_s = 0.05;  // quick tests; the back-off's doubling is the same
  return settings;
}

std::string write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string pattern_bytes(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  unsigned state = seed * 2654435761u + 1;
  for (auto& c : out) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return out;
}

std::string commit_hash(int n) {
  std::ostringstream out;
  out << std::hex;
  for (int i = 0; i < 5; ++i) out << (0x10000000u + static_cast<unsigned>(n) * 7919u + i);
  return out.str();
}

}  // namespace othrun::testing
