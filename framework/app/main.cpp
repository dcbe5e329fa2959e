// othrun: runs an Othello-GPT interpretability experiment described by a YAML file.
#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

#include <othrun/inspect.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>
#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "config/experiment.hpp"
#include "describe.hpp"
#include "fetch_command.hpp"
#include "plugin/registry.hpp"
#include "process_ranks.hpp"
#include "runtime/blas.hpp"
#include "runtime/product_status.hpp"
#include "runtime/runner.hpp"
#include "runtime/system.hpp"
#include "runtime/threads.hpp"

namespace po = boost::program_options;

namespace {

struct Options {
  std::string experiment;
  bool check = false;
  bool list = false;
  std::string describe;
  bool yaml = false;
  std::string inspect;
  std::string report;
  std::string status;
  std::vector<std::string> overrides;
  std::vector<std::string> plugin_paths;
  int threads = 0;
  bool force = false;
  bool system = false;
  bool wait = false;
  std::string log_level = "info";
};

po::options_description visible_options(Options& options) {
  po::options_description described(
      "Usage: othrun [options] EXPERIMENT.yaml\n       othrun fetch REF...  (download hf:// "
      "and https:// files into the cache; othrun fetch --help)\n\nOptions");
  described.add_options()("help,h", "print this help")("check", po::bool_switch(&options.check),
                                                       "validate the experiment only; run nothing")(
      "list", po::bool_switch(&options.list),
      "list every plugin found: version, availability, path")(
      "describe", po::value(&options.describe)->value_name("NAME"),
      "print plugin NAME's parameters (type, default, range or allowed values, doc)")(
      "yaml", po::bool_switch(&options.yaml), "with --describe: print a default YAML step instead")(
      "inspect", po::value(&options.inspect)->value_name("FILE"),
      "print the tensors and values a .pth/.pt, safetensors file or SAELens folder holds")(
      "report", po::value(&options.report)->value_name("STORE.h5"),
      "(re)write the HTML report of an existing store beside it: STORE.report.html")(
      "status", po::value(&options.status)->value_name("STORE.h5"),
      "one line per product: complete, stale, failed or missing, with its inputs")(
      "set", po::value(&options.overrides)->value_name("KEY=VALUE")->composing(),
      "override a value: LABEL.KEY=VALUE for a step parameter, KEY=VALUE for name/store/seed "
      "(repeatable; VALUE is YAML)")(
      "plugin-path", po::value(&options.plugin_paths)->value_name("DIR")->composing(),
      "look for plugins in DIR first (repeatable; also $OTHRUN_PLUGIN_PATH, colon-separated)")(
      "threads", po::value(&options.threads)->value_name("N"),
      "worker threads (default: all cores)")("force", po::bool_switch(&options.force),
                                             "rerun every step, even those up to date")(
      "wait", po::bool_switch(&options.wait),
      "when another run holds the store, wait for it instead of failing (exit 3)")(
      "log-level", po::value(&options.log_level)->value_name("LEVEL"),
      "debug, info (default), warn or error")(
      "system", po::bool_switch(&options.system),
      "print what a bug report needs: version, CPU, BLAS kernel, thread pools, libraries, "
      "plugins");
  return described;
}

// The build tree's plugin folder, searched only by the othrun that was built there (not by an
// installed copy).
std::filesystem::path build_tree_plugin_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.parent_path() != std::filesystem::path(OTHRUN_BUILD_EXE_DIR)) return {};
  return OTHRUN_BUILD_PLUGIN_DIR;
}

int usage_error(const std::string& message) {
  std::cerr << "othrun: " << message << "\nTry 'othrun --help'.\n";
  return othrun::kExitInvalid;
}

// othrun --report STORE.h5: the report of a store that exists (never creates one).
int write_store_report(const std::filesystem::path& index) {
  if (!std::filesystem::is_regular_file(index)) {
    std::cerr << "othrun: no store " << index.string() << "\n";
    return othrun::kExitFailed;
  }
  const auto html = othrun::report::report_path_for(index);
  othrun::report::write_report(othrun::Store(index), "", html);
  othrun::log::info("report: {}", html.string());
  return othrun::kExitOk;
}

// othrun --status STORE.h5: exit 0 when every product is complete, 1 otherwise.
int print_store_status(const std::filesystem::path& index) {
  if (!std::filesystem::is_regular_file(index)) {
    std::cerr << "othrun: no store " << index.string() << "\n";
    return othrun::kExitFailed;
  }
  bool all_complete = true;
  for (const auto& product : othrun::store_status(othrun::Store(index))) {
    std::string inputs;
    for (const auto& input : product.inputs) inputs += (inputs.empty() ? "" : ", ") + input;
    std::cout << fmt::format("{:<24} {:<9} inputs: {}", product.label,
                             othrun::to_string(product.state), inputs.empty() ? "-" : inputs);
    if (!product.reason.empty()) std::cout << "  (" << product.reason << ")";
    std::cout << "\n";
    all_complete = all_complete && product.state == othrun::ProductStatus::State::Complete;
  }
  return all_complete ? othrun::kExitOk : othrun::kExitFailed;
}

// Before any plugin loads a BLAS or OpenMP: they read these settings once, when loaded.
void prepare_compute_libraries(int threads) {
  othrun::blas::select_kernel_for_this_process();
  othrun::threads::apply_policy(threads);
}

// Whether any step names a file by reference (hf://, https://): then a run resolves them online.
bool names_references(const othrun::Experiment& experiment) {
  if (!experiment.to_fetch.empty()) return true;
  for (const auto& step : experiment.steps) {
    if (!step.fetched.empty()) return true;
  }
  return false;
}

int run(const Options& options, othrun::HostRanks& ranks) {
  using namespace othrun;
  PluginRegistry plugins(
      PluginRegistry::default_search_path(options.plugin_paths, build_tree_plugin_dir()));
  if (options.system) {
    SystemInputs inputs;
    inputs.workers = threads::resolve(options.threads);
    inputs.blas = blas::select_kernel_for_this_process();
    inputs.threads = threads::apply_policy(options.threads);
    inputs.search_path = plugins.search_path();
    inputs.plugins = plugins.list_all();
    print_system(inputs, std::cout);
    return kExitOk;
  }
  if (options.list) {
    print_plugin_list(plugins.list_all(), std::cout);
    return kExitOk;
  }
  if (!options.describe.empty()) {
    const LoadedPlugin& plugin = plugins.get(options.describe);
    if (options.yaml) {
      print_default_step(plugin, std::cout);
    } else {
      print_description(plugin, std::cout);
    }
    return kExitOk;
  }
  if (!options.inspect.empty()) {
    inspect_file(options.inspect, std::cout);  // DataError: "othrun: FILE: what", exit 1
    return kExitOk;
  }
  if (!options.report.empty()) return write_store_report(options.report);
  if (!options.status.empty()) return print_store_status(options.status);
  if (options.experiment.empty()) return usage_error("no experiment file given");

  if (!options.check) prepare_compute_libraries(options.threads);  // --check runs nothing
  Experiment experiment;
  int loaded = kExitOk;
  try {
    // Validated from the cache first: a bad experiment is reported before any download.
    experiment = load_experiment(options.experiment, options.overrides, plugins);
    if (!options.check && names_references(experiment)) {
      install_interrupt_handler();
      experiment = load_experiment(options.experiment, options.overrides, plugins,
                                   fetch::ResolveMode::Fetch);
    }
  } catch (const ValidationError& error) {
    if (ranks.is_root()) {  // every rank finds the same problems: rank 0 says them
      for (const auto& message : error.messages()) std::cerr << message << "\n";
      std::cerr << "othrun: " << error.messages().size() << " problem"
                << (error.messages().size() == 1 ? "" : "s") << " in " << options.experiment
                << "; nothing was run\n";
    }
    loaded = kExitInvalid;
  } catch (const Interrupted&) {
    std::cerr << "othrun: interrupted while fetching; a partial download is kept and resumes "
                 "next time\n";
    loaded = kExitInterrupted;
  }
  // Every rank must have the experiment before any starts it (a file only one node lacks).
  if (!options.check && !all_ranks_ok(ranks, loaded == kExitOk) && loaded == kExitOk)
    loaded = kExitInvalid;
  if (loaded != kExitOk) return loaded;
  if (options.check) {
    std::cout << options.experiment << ": OK (" << experiment.steps.size() << " steps)\n";
    for (const auto& ref : experiment.to_fetch) {
      std::cout << "  not cached, fetched when it runs: " << ref << "\n";
    }
    return kExitOk;
  }
  install_interrupt_handler();
  return run_experiment(experiment,
                        RunOptions{options.threads, options.force, options.wait, &ranks});
}

// An error outside a step: alone, this process just exits; under mpirun the others may be waiting
// for it, so every rank stops.
int end_ranks(othrun::HostRanks& ranks, int exit_code) {
  if (ranks.size() > 1) ranks.abort(exit_code);
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "fetch") {  // `othrun fetch REF...` (docs/fetch.md)
    try {
      return othrun::run_fetch_command(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const std::exception& error) {
      std::cerr << "othrun fetch: " << error.what() << "\n";
      return othrun::kExitFailed;
    }
  }
  Options options;
  po::options_description described = visible_options(options);
  po::options_description all = described;
  all.add_options()("experiment", po::value(&options.experiment));
  po::positional_options_description positional;
  positional.add("experiment", 1);

  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
              values);
    po::notify(values);
  } catch (const po::error& error) {
    return usage_error(error.what());
  }
  if (values.count("help")) {
    std::cout << described << "\n"
              << "Exit codes: 0 success, 1 failure while running, 2 invalid experiment or usage,\n"
              << "3 the store is in use by another run, 130 interrupted (finished steps are "
                 "kept).\n";
    return othrun::kExitOk;
  }
  try {
    othrun::log::set_level(othrun::log::parse_level(options.log_level));
  } catch (const othrun::Error& error) {
    return usage_error(error.what());
  }
  if (options.threads < 0) return usage_error("--threads must be at least 1");
  std::unique_ptr<othrun::HostRanks> ranks;
  try {
    ranks = othrun::start_ranks(argc, argv);
  } catch (const othrun::Error& error) {
    return usage_error(error.what());
  }
  if (ranks->size() > 1) {
    // Only a run is spread over the ranks; rank 0 does anything else alone.
    const bool runs = !options.experiment.empty() && !options.check && !options.list &&
                      !options.system && options.describe.empty() && options.inspect.empty() &&
                      options.report.empty() && options.status.empty();
    if (!runs && !ranks->is_root()) return othrun::kExitOk;
    if (!ranks->is_root()) {
      // The other ranks say only what goes wrong, named by rank; rank 0 tells the story.
      othrun::log::set_prefix("rank " + std::to_string(ranks->rank()) + ": ");
      if (othrun::log::level() < othrun::log::Level::Warn)
        othrun::log::set_level(othrun::log::Level::Warn);
    }
  }
  try {
    return run(options, *ranks);
  } catch (const othrun::PluginError& error) {
    std::cerr << "othrun: " << error.what() << "\n";
    return end_ranks(*ranks, othrun::kExitInvalid);
  } catch (const std::exception& error) {
    std::cerr << "othrun: " << error.what() << "\n";
    return end_ranks(*ranks, othrun::kExitFailed);
  }
}
