// Runs a validated experiment: steps in order, each into its own product, skipping steps whose
// product is complete and whose plugin build, config, input products and input files are unchanged
// (runtime/fingerprint.hpp). A failed step stops only the steps that depend on it.
#pragma once

#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace othrun {

class HostRanks;

struct RunOptions {
  int threads = 0;     // 0: every hardware thread (divided among the ranks on one machine)
  bool force = false;  // rerun steps even when up to date
  bool wait = false;   // wait for another run's lock on the store instead of failing at once
  HostRanks* ranks = nullptr;  // the MPI ranks (docs/scale.md); nullptr: one process
};

struct StepOutcome {
  std::string label;
  std::string plugin;
  enum class Status { Ran, Skipped, Failed, Interrupted, NotRun } status = Status::Ran;
  double seconds = 0;
  std::string detail;  // the error of a failed step; "depends on X" of a step not run
};

// Exit codes of `othrun`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitBusy = 3;  // the store is locked by another run; nothing was run
inline constexpr int kExitInterrupted = 130;

// Runs every step whose upstream steps succeeded; returns an exit code: 1 when any step failed, 130
// when interrupted (the steps after it are not run). Finished steps stay in the store whatever
// happens later.
int run_experiment(const Experiment& experiment, const RunOptions& options,
                   std::vector<StepOutcome>* outcomes = nullptr);

// 64-bit FNV-1a, as 16 hex digits: stable across builds and machines (std::hash is not).
std::string stable_hash(const std::string& text);

}  // namespace othrun
