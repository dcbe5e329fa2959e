// Test harness of the analysis plugins: a temporary store, games and activations products written
// by the test itself, and a plugin run from its built module with a config (defaults filled in).
#pragma once

#include <othrun/plugin.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace othrun::analysis_test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path fixture(const std::string& name);  // tests/fixtures/analysis/<name>

// Writes a games product of `n` random full-length (60-move) games.
void write_games(Store& store, const std::string& label, std::uint64_t n, std::uint64_t seed);

// Writes an activations product holding dataset `hook` [games, positions, width] (float32 or
// float16 storage) of model positions [first_position, first_position + positions), recorded as
// the inference plugin does (attributes positions_start / positions_stop).
void write_activations(Store& store, const std::string& label, const std::string& hook,
                       const std::vector<float>& values, std::uint64_t games,
                       std::uint64_t positions, std::uint64_t width, bool half = false,
                       std::int64_t first_position = 0);

// Runs plugin `plugin` (loaded from the build's plugin folder) as step `label`; `values` are the
// config entries given (paths absolute), the others take their schema defaults.
void run_plugin(Store& store, const std::string& plugin, const std::string& label,
                std::map<std::string, Value> values, int threads = 1);

// Runs `script` (tests/analysis/<script>) with Debian's python3 and the given arguments; returns
// its exit code and appends its output to `output`.
int run_python(const std::string& script, const std::vector<std::string>& args,
               std::string& output);

}  // namespace othrun::analysis_test
