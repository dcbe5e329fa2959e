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

#include "config/stored_contract.hpp"
#include "parallel/host_ranks.hpp"
#include "runtime/dependencies.hpp"
#include "runtime/fault.hpp"
#include "runtime/fingerprint.hpp"
#include "runtime/last_run.hpp"

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
              int threads, HostRanks& ranks)
      : store_(store),
        output_(output),
        step_(step),
        seed_(seed),
        threads_(threads),
        ranks_(step.plugin->schema.is_data_parallel() ? static_cast<Ranks&>(ranks) : one_) {}

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
  Ranks& ranks() override { return ranks_; }

 private:
  Store& store_;
  Product& output_;
  const PlannedStep& step_;
  std::uint64_t seed_;
  int threads_;
  SingleRank one_;  // what a step that is not data-parallel sees: it runs on rank 0 alone
  Ranks& ranks_;
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

// Rank 0's text (a product id, an exit code) on every rank.
std::string broadcast_text(Ranks& ranks, const std::string& text) {
  const auto bytes = ranks.broadcast(std::span<const char>(text.data(), text.size()));
  return {bytes.begin(), bytes.end()};
}

int broadcast_code(Ranks& ranks, int code) {
  return std::stoi(broadcast_text(ranks, std::to_string(code)));
}

// What rank 0 decided for one step: a product begun (the step runs), or none (its outcome is
// already recorded).
struct StepStart {
  std::optional<Product> product;
  StepFingerprint fingerprint;
};

// Rank 0: whether step `i` runs. When it does not, its outcome is recorded here; when it does, its
// product is begun (provenance and fingerprint written) and returned.
StepStart decide_step(const Experiment& experiment, std::size_t i, Store& store,
                      const std::optional<LastRun>& last_run,
                      const std::vector<std::vector<std::size_t>>& upstream,
                      const RunOptions& options, std::vector<std::vector<std::string>>& causes,
                      std::vector<InputFile>& hashed, std::vector<StepOutcome>& outcomes,
                      int& exit_code) {
  const PlannedStep& step = experiment.steps[i];
  StepOutcome outcome;
  outcome.label = step.label;
  outcome.plugin = step.plugin->info->name;
  StepStart start;
  if (exit_code != kExitInterrupted && interrupt_requested()) {  // Ctrl-C: start no new step
    log::error("interrupted before step '{}'; finished steps are kept", step.label);
    exit_code = kExitInterrupted;
  }
  if (exit_code == kExitInterrupted) {
    outcome.status = StepOutcome::Status::NotRun;
    outcome.detail = "interrupted";
    outcomes.push_back(outcome);
    return start;
  }
  if (auto failed = failed_upstream(upstream[i], causes); !failed.empty()) {
    outcome.status = StepOutcome::Status::NotRun;
    outcome.detail = depends_on(failed);
    log::warn("step '{}' ({}): not run: it {}, which failed", step.label, outcome.plugin,
              outcome.detail);
    causes[i] = std::move(failed);
    outcomes.push_back(outcome);
    return start;
  }
  try {
    start.fingerprint = fingerprint_step(step, store, known_files(store, step.label, last_run));
    hashed.insert(hashed.end(), start.fingerprint.files.begin(), start.fingerprint.files.end());
  } catch (const Interrupted&) {
    log::error("step '{}' ({}): interrupted while hashing its input files", step.label,
               outcome.plugin);
    outcome.status = StepOutcome::Status::Interrupted;
    exit_code = kExitInterrupted;
    outcomes.push_back(outcome);
    return start;
  } catch (const std::exception& error) {
    log::error("step '{}' ({}) failed: {}", step.label, outcome.plugin, error.what());
    outcome.status = StepOutcome::Status::Failed;
    outcome.detail = error.what();
    causes[i] = {step.label};
    exit_code = kExitFailed;
    outcomes.push_back(outcome);
    return start;
  }
  const std::string& hash = start.fingerprint.hash;
  if (!options.force && up_to_date(store, step.label, hash)) {
    outcome.status = StepOutcome::Status::Skipped;
    log::info("step '{}' ({}): up to date, skipped", step.label, outcome.plugin);
    outcomes.push_back(outcome);
    return start;
  }
  say_what_moved(store, step.label, start.fingerprint);
  Provenance provenance{outcome.plugin,
                        step.plugin->info->version,
                        step.plugin->schema.kinds(),
                        step.config.to_yaml(),
                        hash,
                        start.fingerprint.inputs,
                        experiment.name};
  log::info("step '{}' ({}): running", step.label, outcome.plugin);
  start.product.emplace(store.begin(step.label, provenance));
  record_fingerprint(*start.product, start.fingerprint);
  return start;
}

// A data-parallel step under N ranks: every rank runs it into its part file. A rank that fails
// ends the whole run (the others may wait for it in a collective): the step stays uncommitted and
// the steps finished before it are kept. Returns once every rank closed its part.
void run_on_every_rank(Step& instance, const PlannedStep& step, Store& store,
                       const std::string& product_id, std::uint64_t seed, int threads,
                       HostRanks& ranks) {
  try {
    Product part = store.begin_rank_part(step.label, product_id, ranks.rank());
    try {
      StepContext context(store, part, step, seed, threads, ranks);
      instance.run(context);
      // The reliability tests kill one rank here (tests/mpi/check_ranks.sh).
      fault::point(("rank" + std::to_string(ranks.rank()) + ".step_ran").c_str());
    } catch (...) {
      store.close_rank_part(std::move(part));
      throw;
    }
    store.close_rank_part(std::move(part));
  } catch (const Interrupted&) {
    log::error("step '{}' ({}): interrupted; finished steps are kept, this one is not committed",
               step.label, step.plugin->info->name);
    ranks.abort(kExitInterrupted);
  } catch (const std::exception& error) {
    log::error("step '{}' ({}) failed: {}; stopping every rank (finished steps are kept)",
               step.label, step.plugin->info->name, error.what());
    ranks.abort(kExitFailed);
  }
  all_ranks_ok(ranks, true);  // a barrier: rank 0 reads the parts only after this
}

}  // namespace

std::string stable_hash(const std::string& text) { return fmt::format("{:016x}", fnv1a(text)); }

int run_experiment(const Experiment& experiment, const RunOptions& options,
                   std::vector<StepOutcome>* outcomes_out) {
  OneProcess one_process;
  HostRanks& ranks = options.ranks ? *options.ranks : one_process;
  const bool root = ranks.is_root();
  const int threads =
      options.threads > 0
          ? options.threads
          : std::max(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) /
                            ranks.local_size());
  // Every step is built before the first runs: a bad config fails before any work is done.
  std::vector<StepInstance> instances;
  bool created = true;
  for (const auto& step : experiment.steps) {
    try {
      instances.push_back(create_step(*step.plugin, step.config));
    } catch (const std::exception& error) {
      log::error("{}:{}: step '{}' ({}): {}", experiment.file.string(), step.line, step.label,
                 step.plugin->info->name, error.what());
      created = false;
      break;
    }
  }
  if (!all_ranks_ok(ranks, created)) return kExitInvalid;

  // Rank 0 owns the store: its lock, recovery, decisions and commits. The other ranks only read
  // products and write their parts of data-parallel steps.
  std::optional<Store> store;
  std::unique_ptr<StoreLock> lock;
  int start_code = kExitOk;
  if (root) {
    store.emplace(experiment.store);
    start_code = take_store(*store, experiment, options, lock);
  }
  start_code = broadcast_code(ranks, start_code);
  if (start_code != kExitOk) return start_code;
  if (!root) store.emplace(experiment.store);

  const auto upstream = step_dependencies(experiment);
  const std::optional<LastRun> last_run = root ? read_last_run(experiment.store) : std::nullopt;
  // For each step, the failed steps that kept it from running (itself, when it failed).
  std::vector<std::vector<std::string>> causes(experiment.steps.size());
  std::vector<InputFile> hashed;  // every input file of this run, for the next run's fast path
  std::vector<StepOutcome> outcomes;
  int exit_code = kExitOk;
  for (size_t i = 0; i < experiment.steps.size(); ++i) {
    const PlannedStep& step = experiment.steps[i];
    const bool parallel = step.plugin->schema.is_data_parallel() && ranks.size() > 1;
    StepStart start;
    if (root)
      start = decide_step(experiment, i, *store, last_run, upstream, options, causes, hashed,
                          outcomes, exit_code);
    const std::string id =
        broadcast_text(ranks, start.product ? start.product->product_id() : std::string());
    if (id.empty() || (!root && !parallel)) continue;
    StepOutcome outcome;
    outcome.label = step.label;
    outcome.plugin = step.plugin->info->name;
    const std::uint64_t seed = splitmix64(experiment.seed ^ fnv1a(step.label));
    const auto began = std::chrono::steady_clock::now();
    if (parallel) {
      run_on_every_rank(*instances[i].step, step, *store, id, seed, threads, ranks);
      if (!root) continue;
    }
    Product& product = *start.product;
    try {
      if (parallel) {
        store->join_rank_parts(product, ranks.size());
      } else {
        StepContext context(*store, product, step, seed, threads, ranks);
        instances[i].step->run(context);
      }
      check_written(product, step.datasets);  // the product holds what its plugin declared
      outcome.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      product.root().attrs().set("othrun.seconds", outcome.seconds);
      // The step's place in its experiment: the report orders products of one second by it.
      product.root().attrs().set("othrun.step_index", static_cast<std::int64_t>(i));
      store->commit(std::move(product));
      log::info("step '{}' ({}): done in {:.2f} s", step.label, outcome.plugin, outcome.seconds);
    } catch (const Interrupted&) {
      store->discard(std::move(product));
      outcome.status = StepOutcome::Status::Interrupted;
      log::error("step '{}' ({}): interrupted; finished steps are kept, this one was discarded",
                 step.label, outcome.plugin);
      exit_code = kExitInterrupted;
    } catch (const std::exception& error) {
      store->discard(std::move(product));
      if (parallel) store->tidy_rank_files(step.label);
      outcome.status = StepOutcome::Status::Failed;
      outcome.detail = error.what();
      causes[i] = {step.label};
      log::error("step '{}' ({}) failed: {}", step.label, outcome.plugin, error.what());
      exit_code = kExitFailed;
    }
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    outcomes.push_back(outcome);
  }
  if (root) {
    record_last_run(experiment, outcomes, std::move(hashed));
    print_summary(outcomes);
    exit_code = write_run_report(*store, experiment, exit_code);
    if (outcomes_out) *outcomes_out = outcomes;
  }
  return broadcast_code(ranks, exit_code);
}

}  // namespace othrun
