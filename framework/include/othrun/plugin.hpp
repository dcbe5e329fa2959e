// The plugin API: what a plugin implements and what the host gives it.
//
// A plugin is a shared library with one step class and one `OTHRUN_PLUGIN(Class)` line:
//
//   class Hello : public othrun::Step {
//    public:
//     static constexpr const char* kName = "hello";      // = folder = library file = YAML plugin:
//     static constexpr const char* kVersion = "1.0.0";
//     static othrun::Schema describe();                   // parameters, docs, kinds, datasets
//     explicit Hello(const othrun::Config& config);       // config already validated and typed
//     void run(othrun::RunContext& ctx) override;         // writes under ctx.output()
//     // optional: static void validate(const othrun::Config&);   throws ConfigError(key, ...)
//     // optional: static othrun::Availability probe();   e.g. "unavailable: no CUDA device"
//     // optional: static othrun::DatasetDecls produces(const othrun::Config&);
//     //   the datasets a step with this config writes, when describe() cannot list them
//     // with schema.data_parallel(): run() works on ctx.ranks().share(...) of the games
//   };
//   OTHRUN_PLUGIN(Hello)
//
// See plugins/random_directions/ for a complete, documented plugin and docs/plugins.md.
#pragma once

#include <othrun/error.hpp>
#include <othrun/ranks.hpp>
#include <othrun/schema.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace othrun {

// Bumped whenever anything in the public headers changes layout or meaning.
inline constexpr std::uint32_t kPluginAbiVersion = 4;

struct Availability {
  bool available = true;
  std::string reason;  // why not; when available, an optional note for --list and --describe
};

// What a running step can reach: its output product, the store's other products, settings.
class RunContext {
 public:
  virtual ~RunContext() = default;
  // This step's product, being written. Everything goes under its root group.
  virtual Product& output() = 0;
  // The complete product named by Input parameter `key` (its label; the dataset the parameter
  // names after ':' is config.input_dataset(key)).
  virtual const Product& input(const std::string& key) = 0;
  // The experiment's seed mixed with the step label: stable across runs and thread counts.
  virtual std::uint64_t seed() const = 0;
  // Worker threads the step may use (>= 1).
  virtual int threads() const = 0;
  // The ranks this step runs on: one, unless its plugin is data_parallel() and othrun was started
  // by mpirun or srun. Under N ranks output() is this rank's part of the product (ranks.hpp).
  virtual Ranks& ranks() = 0;
};

// One step of an experiment. Constructed from a validated config, never half-initialised.
class Step {
 public:
  virtual ~Step() = default;
  virtual void run(RunContext& ctx) = 0;
};

// The one exported entry point of a plugin library. `abi_version` must stay the first member:
// the loader reads it before touching anything else.
struct PluginInfo {
  std::uint32_t abi_version;
  const char* name;
  const char* version;
  Schema (*describe)();
  Availability (*probe)();          // never null
  void (*validate)(const Config&);  // may be null
  std::unique_ptr<Step> (*create)(const Config&);
  DatasetDecls (*produces)(const Config&);  // may be null: the schema's datasets
};

namespace detail {
template <class StepClass>
PluginInfo make_plugin_info() {
  PluginInfo info{};
  info.abi_version = kPluginAbiVersion;
  info.name = StepClass::kName;
  info.version = StepClass::kVersion;
  info.describe = &StepClass::describe;
  if constexpr (requires { StepClass::probe(); }) {
    info.probe = &StepClass::probe;
  } else {
    info.probe = [] { return Availability{}; };
  }
  if constexpr (requires(const Config& c) { StepClass::validate(c); }) {
    info.validate = &StepClass::validate;
  }
  if constexpr (requires(const Config& c) { StepClass::produces(c); }) {
    info.produces = &StepClass::produces;
  }
  info.create = [](const Config& config) -> std::unique_ptr<Step> {
    return std::make_unique<StepClass>(config);
  };
  return info;
}
}  // namespace detail

}  // namespace othrun

#define OTHRUN_PLUGIN_ENTRY_NAME "othrun_plugin_info"

// Defines the plugin's exported entry point for StepClass.
#define OTHRUN_PLUGIN(StepClass)                                                              \
  extern "C" __attribute__((visibility("default"))) const ::othrun::PluginInfo*               \
  othrun_plugin_info() {                                                                      \
    static const ::othrun::PluginInfo info = ::othrun::detail::make_plugin_info<StepClass>(); \
    return &info;                                                                             \
  }
