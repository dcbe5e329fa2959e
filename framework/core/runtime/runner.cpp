#include "runtime/runner.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <memory>
#include <thread>

#include <othrun/log.hpp>
#include <othrun/progress.hpp>
#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "runtime/dependencies.hpp"
#include "runtime/fingerprint.hpp"
#include "runtime/last_run.hpp"
#include "config/stored_contract.hpp"

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
    const std::string label = step_.config.input_label(key);
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

bool up_to_date(const Store& store, const std::string& label, const std::string& hash) {
  if (!store.has(label)) return false;
  const Product product = store.open(label);
  const Attributes attrs = product.root().attrs();
  return attrs.has("othrun.config_hash") && attrs.get_string("othrun.config_hash") == hash;
}

std::string status_name(const StepOutcome& outcome) {
  switch (outcome.status) {
    case StepOutcome::Status::Ran:
      return "ran";
    case StepOutcome::Status::Skipped:
      return "up to date";
    case StepOutcome::Status::Failed:
      return "FAILED";
    case StepOutcome::Status::Interrupted:
      return "interrupted";
    case StepOutcome::Status::NotRun:
      return "not run (" + outcome.detail + ")";
  }
  return "?";
}

void print_summary(const std::vector<StepOutcome>& outcomes) {
  log::info("{:<24} {:<18} {:<12} {:>9}", "step", "plugin", "status", "seconds");
  for (const auto& outcome : outcomes) {
    log::info("{:<24} {:<18} {:<12} {:>9.2f}", outcome.label, outcome.plugin, status_name(outcome),
              outcome.seconds);
  }
}

// The failed steps upstream of step `index`, through the steps not run because of them; empty
// when every step it depends on succeeded (ran or was up to date).
std::vector<std::string> failed_upstream(const std::vector<std::size_t>& upstream,
                                         const std::vector<std::vector<std::string>>& causes) {
  std::vector<std::string> out;
  for (std::size_t j : upstream) {
    for (const auto& label : causes[j]) {
      if (std::find(out.begin(), out.end(), label) == out.end()) out.push_back(label);
    }
  }
  return out;
}

std::string depends_on(const std::vector<std::string>& failed) {
  std::string text = "depends on ";
  for (std::size_t i = 0; i < failed.size(); ++i) text += (i ? ", " : "") + failed[i];
  return text;
}

// Files hashed before, for the size+times fast path: the step's last product and the last run.
std::vector<InputFile> known_files(const Store& store, const std::string& label,
                                   const std::optional<LastRun>& last_run) {
  std::vector<InputFile> known;
  if (last_run) known = last_run->files;
  if (store.has(label)) {
    try {
      auto recorded = recorded_input_files(store.open(label));
      known.insert(known.end(), recorded.begin(), recorded.end());
    } catch (const std::exception&) {
      // An unreadable old product only costs a rehash; the step reruns anyway.
    }
  }
  return known;
}

// A fetched input whose Hub revision now names another commit (or whose content changed) makes
// the stored product stale: say so, since the config as written has not changed.
void say_what_moved(const Store& store, const std::string& label,
                    const StepFingerprint& fingerprint) {
  if (fingerprint.fetched.empty() || !store.has(label)) return;
  try {
    for (const auto& change :
         fetched_changes(recorded_fetched_inputs(store.open(label)), fingerprint.fetched)) {
      log::info("step '{}': {} since its product was written; rerunning", label, change);
    }
  } catch (const std::exception&) {
    // An unreadable old product is rerun anyway.
  }
}

const char* last_run_status(StepOutcome::Status status) {
  switch (status) {
    case StepOutcome::Status::Ran:
      return "ran";
    case StepOutcome::Status::Skipped:
      return "up to date";
    case StepOutcome::Status::Failed:
      return "failed";
    case StepOutcome::Status::Interrupted:
      return "interrupted";
    case StepOutcome::Status::NotRun:
      return "not run";
  }
  return "?";
}

// Records how each step ended and the file hashes of this run (runtime/last_run.hpp).
void record_last_run(const Experiment& experiment, const std::vector<StepOutcome>& outcomes,
                     std::vector<InputFile> files) {
  LastRun run;
  for (const auto& outcome : outcomes) {
    run.steps.push_back(
        {outcome.label, outcome.plugin, last_run_status(outcome.status), outcome.detail});
  }
  run.files = std::move(files);
  try {
    write_last_run(experiment.store, run);
  } catch (const std::exception& error) {
    log::warn("could not record the run in {}: {}", last_run_path(experiment.store).string(),
              error.what());
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
  const auto upstream = step_dependencies(experiment);
  const std::optional<LastRun> last_run = read_last_run(experiment.store);
  // For each step, the failed steps that kept it from running (itself, when it failed).
  std::vector<std::vector<std::string>> causes(experiment.steps.size());
  std::vector<InputFile> hashed;  // every input file of this run, for the next run's fast path
  std::vector<StepOutcome> outcomes;
  int exit_code = kExitOk;
  for (size_t i = 0; i < experiment.steps.size(); ++i) {
    const PlannedStep& step = experiment.steps[i];
    StepOutcome outcome;
    outcome.label = step.label;
    outcome.plugin = step.plugin->info->name;
    if (exit_code != kExitInterrupted && interrupt_requested()) {  // Ctrl-C: start no new step
      log::error("interrupted before step '{}'; finished steps are kept", step.label);
      exit_code = kExitInterrupted;
    }
    if (exit_code == kExitInterrupted) {
      outcome.status = StepOutcome::Status::NotRun;
      outcome.detail = "interrupted";
      outcomes.push_back(outcome);
      continue;
    }
    if (auto failed = failed_upstream(upstream[i], causes); !failed.empty()) {
      outcome.status = StepOutcome::Status::NotRun;
      outcome.detail = depends_on(failed);
      log::warn("step '{}' ({}): not run: it {}, which failed", step.label, outcome.plugin,
                outcome.detail);
      causes[i] = std::move(failed);
      outcomes.push_back(outcome);
      continue;
    }
    StepFingerprint fingerprint;
    try {
      fingerprint = fingerprint_step(step, store, known_files(store, step.label, last_run));
      hashed.insert(hashed.end(), fingerprint.files.begin(), fingerprint.files.end());
    } catch (const Interrupted&) {
      log::error("step '{}' ({}): interrupted while hashing its input files", step.label,
                 outcome.plugin);
      outcome.status = StepOutcome::Status::Interrupted;
      exit_code = kExitInterrupted;
      outcomes.push_back(outcome);
      continue;
    } catch (const std::exception& error) {
      log::error("step '{}' ({}) failed: {}", step.label, outcome.plugin, error.what());
      outcome.status = StepOutcome::Status::Failed;
      outcome.detail = error.what();
      causes[i] = {step.label};
      exit_code = kExitFailed;
      outcomes.push_back(outcome);
      continue;
    }
    const std::string& hash = fingerprint.hash;
    if (!options.force && up_to_date(store, step.label, hash)) {
      outcome.status = StepOutcome::Status::Skipped;
      log::info("step '{}' ({}): up to date, skipped", step.label, outcome.plugin);
      outcomes.push_back(outcome);
      continue;
    }
    say_what_moved(store, step.label, fingerprint);

    Provenance provenance{outcome.plugin,
                          step.plugin->info->version,
                          step.plugin->schema.kinds(),
                          step.config.to_yaml(),
                          hash,
                          fingerprint.inputs,
                          experiment.name};
    log::info("step '{}' ({}): running", step.label, outcome.plugin);
    const auto start = std::chrono::steady_clock::now();
    Product product = store.begin(step.label, provenance);
    record_fingerprint(product, fingerprint);
    const std::uint64_t seed = splitmix64(experiment.seed ^ fnv1a(step.label));
    try {
      StepContext context(store, product, step, seed, threads);
      instances[i].step->run(context);
      check_written(product, step.datasets);  // the product holds what its plugin declared
      outcome.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      product.root().attrs().set("othrun.seconds", outcome.seconds);
      // The step's place in its experiment: the report orders products of one second by it.
      product.root().attrs().set("othrun.step_index", static_cast<std::int64_t>(i));
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
      outcome.detail = error.what();
      causes[i] = {step.label};
      log::error("step '{}' ({}) failed: {}", step.label, outcome.plugin, error.what());
      exit_code = kExitFailed;
    }
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    outcomes.push_back(outcome);
  }
  record_last_run(experiment, outcomes, std::move(hashed));
  print_summary(outcomes);
  exit_code = write_run_report(store, experiment, exit_code);
  if (outcomes_out) *outcomes_out = outcomes;
  return exit_code;
}

}  // namespace othrun
