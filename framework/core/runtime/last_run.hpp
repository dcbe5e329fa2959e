// The record of a store's last run, beside its index (runs/x.h5 -> runs/x.last_run.tsv): how each
// step ended, which the store itself cannot tell for a step that failed, and the content hashes of
// the files the run read, so that a touched but unchanged file is hashed once, not on every run.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/fingerprint.hpp"

namespace othrun {

struct LastRunStep {
  std::string label;
  std::string plugin;
  std::string status;  // "ran", "up to date", "failed", "not run", "interrupted"
  std::string detail;  // the error of a failed step; "depends on X" of a step not run
};

struct LastRun {
  std::vector<LastRunStep> steps;
  std::vector<InputFile> files;
  const LastRunStep* find(const std::string& label) const;
};

std::filesystem::path last_run_path(const std::filesystem::path& store_index);
// Written atomically (a temporary file, then renamed). Throws othrun::Error.
void write_last_run(const std::filesystem::path& store_index, const LastRun& run);
// nullopt when there is no record (a store written before records were kept); lines it cannot
// read are skipped: the record is advisory, the products are the truth.
std::optional<LastRun> read_last_run(const std::filesystem::path& store_index);

}  // namespace othrun
