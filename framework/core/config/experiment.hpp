// Reading an experiment file and validating all of it against the plugins' schemas, before any
// step runs. Every problem is reported as "file:line: step 'label' (plugin): message".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <othrun/contract.hpp>
#include <othrun/error.hpp>
#include <othrun/schema.hpp>

#include "fetch/fetch.hpp"
#include "fetch/resolver.hpp"
#include "plugin/registry.hpp"

namespace othrun {

// Every problem found in an experiment, each message complete with its location.
class ValidationError : public Error {
 public:
  explicit ValidationError(std::vector<std::string> messages);
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

struct PlannedStep {
  std::string label;
  int line = 0;  // of the step's entry in the experiment file
  const LoadedPlugin* plugin = nullptr;
  Config config;
  DatasetDecls datasets;  // what its product will hold (checked after it ran)
  // The hf:// and https:// references among its path parameters, each resolved to the local file
  // that its config now holds (docs/fetch.md).
  std::vector<fetch::Fetched> fetched;
};

struct Experiment {
  std::filesystem::path file;
  std::string name;
  std::filesystem::path store;  // absolute
  std::uint64_t seed = 0;
  std::vector<PlannedStep> steps;
  std::vector<std::string> to_fetch;  // references not yet cached (ResolveMode::CacheOnly)
};

// Parses and validates `file`. `overrides` are "key=value" (top-level key) or "label.key=value"
// (a step parameter); the value is YAML. References (hf://, https://) in path parameters are
// resolved as `mode` says: a reference not cached stays as written in CacheOnly mode (the step's
// validate() sees no file) and is listed in `to_fetch`. Throws ValidationError listing every
// problem.
Experiment load_experiment(const std::filesystem::path& file,
                           const std::vector<std::string>& overrides, PluginRegistry& plugins,
                           fetch::ResolveMode mode = fetch::ResolveMode::CacheOnly);

}  // namespace othrun
