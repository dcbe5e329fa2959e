// The fake Hub (fake_hub.py) as a test fixture: started on a free loopback port, stopped by PID.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fetch/settings.hpp"

namespace othrun::testing {

struct LoggedRequest {
  std::string method, path, range, authorization;
};

class FakeHub {
 public:
  // Serves `spec` (see fake_hub.py); files and logs live under `dir`.
  FakeHub(const std::filesystem::path& dir, const nlohmann::json& spec);
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void set_spec(const nlohmann::json& spec);  // read by the server on its next request
  std::vector<LoggedRequest> requests() const;
  // Requests whose method is `method` and whose path starts with `prefix`.
  int count(const std::string& method, const std::string& prefix = "/") const;
  void clear_log();

 private:
  std::filesystem::path dir_;
  int pid_ = -1;
  int port_ = 0;
};

// Settings for a test: caches under `dir`, the fake Hub's endpoint, quick retries.
fetch::Settings test_settings(const std::filesystem::path& dir, const std::string& endpoint);

// Writes `bytes` to `path` (creating folders) and returns `path`.
std::string write_bytes(const std::filesystem::path& path, const std::string& bytes);
std::string read_bytes(const std::filesystem::path& path);
// `size` bytes of a deterministic pattern (seeded), so every file differs.
std::string pattern_bytes(std::size_t size, unsigned seed);
// A 40-digit commit hash made from `n`.
std::string commit_hash(int n);

}  // namespace othrun::testing
