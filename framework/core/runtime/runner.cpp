#include "runtime/runner.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include <othrun/log.hpp>
#include <othrun/progress.hpp>
#include <othrun/report.hpp>
#include <othrun/store.hpp>

namespace othrun {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

class StepContext : public RunContext {
 public:
  StepContext(Store& store, Product& output, const PlannedStep& step, std::uint64_t seed,
              int threads)
      : store_(store), output_(output), step_(step), seed_(seed), threads_(threads) {}

  Product& output() override { return output_; }

  const Product& input(const std::string& key) override {
    const ParamSpec* spec = step_.plugin->schema.find(key);
    if (!spec || spec->type != ParamType::Input) {
      throw Error("step '" + step_.label + "' asked for input '" + key +
                  "', which is not an input parameter of plugin '" + step_.plugin->info->name +
                  "'");
    }
    const std::string& label = step_.config.get_string(key);
    auto it = inputs_.find(label);
    if (it == inputs_.end()) it = inputs_.emplace(label, store_.open(label)).first;
    return it->second;
  }

  std::uint64_t seed() const override { return seed_; }
  int threads() const override { return threads_; }

 private:
  Store& store_;
  Product& output_;
  const PlannedStep& step_;
  std::uint64_t seed_;
  int threads_;
  std::map<std::string, Product> inputs_;
};

// The labels and product ids of a step's inputs, as they are in the store now.
std::vector<std::string> input_ids(const PlannedStep& step, const Store& store) {
  std::vector<std::string> ids;
  for (const auto& spec : step.plugin->schema.params()) {
    if (spec.type != ParamType::Input || !step.config.has(spec.name)) continue;
    const std::string& label = step.config.get_string(spec.name);
    ids.push_back(label + ":" + store.open(label).product_id());
  }
  return ids;
}

bool up_to_date(const Store& store, const std::string& label, const std::string& hash) {
  if (!store.has(label)) return false;
  const Product product = store.open(label);
  const Attributes attrs = product.root().attrs();
  return attrs.has("othrun.config_hash") && attrs.get_string("othrun.config_hash") == hash;
}

const char* status_name(StepOutcome::Status status) {
  switch (status) {
    case StepOutcome::Status::Ran:
      return "ran";
    case StepOutcome::Status::Skipped:
      return "up to date";
    case StepOutcome::Status::Failed:
      return "FAILED";
    case StepOutcome::Status::Interrupted:
      return "interrupted";
  }
  return "?";
}

void print_summary(const std::vector<StepOutcome>& outcomes) {
  log::info("{:<24} {:<18} {:<12} {:>9}", "step", "plugin", "status", "seconds");
  for (const auto& outcome : outcomes) {
    log::info("{:<24} {:<18} {:<12} {:>9.2f}", outcome.label, outcome.plugin,
              status_name(outcome.status), outcome.seconds);
  }
}

// Locks the store for the whole run (a second run fails at once, or waits with --wait) and tidies
// what interrupted runs left. Returns kExitOk, or the exit code when the run cannot start.
int take_store(Store& store, const Experiment& experiment, const RunOptions& options,
               std::unique_ptr<StoreLock>& lock) {
  try {
    lock = std::make_unique<StoreLock>(store.index_path(), options.wait);
  } catch (const StoreBusy& busy) {
    log::error("{}", busy.what());
    return kExitBusy;
  } catch (const Interrupted&) {
    log::error("interrupted while waiting for the store's lock; nothing was run");
    return kExitInterrupted;
  }
  store.recover();
  std::error_code ignored;
  std::filesystem::remove(report::report_path_for(experiment.store).string() + ".tmp", ignored);
  return kExitOk;
}

// The HTML report of everything in the store (docs/report.md); failing to write it loses no data.
// After Ctrl-C the previous report is kept as it was and the run exits with 130.
int write_run_report(const Store& store, const Experiment& experiment, int exit_code) {
  const auto report_html = report::report_path_for(experiment.store);
  if (interrupt_requested()) {
    log::warn("report not rewritten after Ctrl-C ('othrun --report {}' writes it)",
              experiment.store.string());
    return kExitInterrupted;
  }
  try {
    report::write_report(store, experiment.name, report_html);
    log::info("report: {}", report_html.string());
  } catch (const Interrupted&) {
    log::error("interrupted while writing the report; the previous report is kept");
    return kExitInterrupted;
  } catch (const std::exception& error) {
    log::warn("could not write the report: {}", error.what());
  }
  return exit_code;
}

}  // namespace

std::string stable_hash(const std::string& text) { return fmt::format("{:016x}", fnv1a(text)); }

int run_experiment(const Experiment& experiment, const RunOptions& options,
                   std::vector<StepOutcome>* outcomes_out) {
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Every step is built before the first runs: a bad config fails before any work is done.
  std::vector<StepInstance> instances;
  for (const auto& step : experiment.steps) {
    try {
      instances.push_back(create_step(*step.plugin, step.config));
    } catch (const std::exception& error) {
      log::error("{}:{}: step '{}' ({}): {}", experiment.file.string(), step.line, step.label,
                 step.plugin->info->name, error.what());
      return kExitInvalid;
    }
  }

  Store store(experiment.store);
  std::unique_ptr<StoreLock> lock;
  if (const int code = take_store(store, experiment, options, lock); code != kExitOk) return code;
  std::vector<StepOutcome> outcomes;
  int exit_code = kExitOk;
  for (size_t i = 0; i < experiment.steps.size(); ++i) {
    const PlannedStep& step = experiment.steps[i];
    if (interrupt_requested()) {  // Ctrl-C between steps: start no new one
      log::error("interrupted before step '{}'; finished steps are kept", step.label);
      exit_code = kExitInterrupted;
      break;
    }
    StepOutcome outcome{step.label, step.plugin->info->name};
    const auto inputs = input_ids(step, store);
    std::string fingerprint = std::string(step.plugin->info->name) + "\n" +
                              step.plugin->info->version + "\n" + step.config.to_yaml();
    for (const auto& input : inputs) fingerprint += input + "\n";
    const std::string hash = stable_hash(fingerprint);
    if (!options.force && up_to_date(store, step.label, hash)) {
      outcome.status = StepOutcome::Status::Skipped;
      log::info("step '{}' ({}): up to date, skipped", step.label, outcome.plugin);
      outcomes.push_back(outcome);
      continue;
    }

    Provenance provenance{outcome.plugin,
                          step.plugin->info->version,
                          step.plugin->schema.kinds(),
                          step.config.to_yaml(),
                          hash,
                          inputs,
                          experiment.name};
    log::info("step '{}' ({}): running", step.label, outcome.plugin);
    const auto start = std::chrono::steady_clock::now();
    Product product = store.begin(step.label, provenance);
    const std::uint64_t seed = splitmix64(experiment.seed ^ fnv1a(step.label));
    try {
      StepContext context(store, product, step, seed, threads);
      instances[i].step->run(context);
      outcome.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      product.root().attrs().set("othrun.seconds", outcome.seconds);
      store.commit(std::move(product));
      log::info("step '{}' ({}): done in {:.2f} s", step.label, outcome.plugin, outcome.seconds);
    } catch (const Interrupted&) {
      store.discard(std::move(product));
      outcome.status = StepOutcome::Status::Interrupted;
      log::error("step '{}' ({}): interrupted; finished steps are kept, this one was discarded",
                 step.label, outcome.plugin);
      exit_code = kExitInterrupted;
    } catch (const std::exception& error) {
      store.discard(std::move(product));
      outcome.status = StepOutcome::Status::Failed;
      log::error("step '{}' ({}) failed: {}", step.label, outcome.plugin, error.what());
      exit_code = kExitFailed;
    }
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    outcomes.push_back(outcome);
    if (exit_code != kExitOk) break;
  }
  print_summary(outcomes);
  exit_code = write_run_report(store, experiment, exit_code);
  if (outcomes_out) *outcomes_out = outcomes;
  return exit_code;
}

}  // namespace othrun
