// What decides whether a step reruns: its plugin (name, version, build id), its config, the product
// ids of its inputs and the content of every file it reads (docs/store.md, "Reruns and staleness").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace othrun {

class Product;
class Store;

// A file a step read, as it was when the step ran. Size, mtime and ctime are the fast path: while
// they are unchanged the content is taken as unchanged. ctime moves on every write and cannot be
// set back, so new bytes are seen even when the size and mtime are restored.
struct InputFile {
  std::string path;  // absolute
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::string sha256;

  bool same_stat(const InputFile& other) const {
    return path == other.path && size == other.size && mtime_ns == other.mtime_ns &&
           ctime_ns == other.ctime_ns;
  }
};

// "SHA256 SIZE MTIME_NS CTIME_NS PATH", the form kept in provenance (othrun.input_files).
std::string to_record(const InputFile& file);
std::optional<InputFile> parse_input_file(const std::string& record);

// The files behind a step's existing-path parameters (a folder: every regular file under it,
// sorted), with their current size and times; sha256 empty. Throws othrun::Error naming a path
// that has vanished.
std::vector<InputFile> stat_input_files(const PlannedStep& step);
// Fills in each file's sha256, reusing one from `known` whose stat is the same.
void hash_input_files(std::vector<InputFile>& files, const std::vector<InputFile>& known);
// Whether a recorded file still holds the same bytes: nullopt when it does, else why not. `known`
// as for hash_input_files.
std::optional<std::string> file_change(const InputFile& recorded,
                                       const std::vector<InputFile>& known);

struct StepFingerprint {
  std::string hash;                 // othrun.config_hash
  std::vector<std::string> inputs;  // "label:product_id" of each input product
  std::string plugin_build;         // othrun.plugin_build
  std::vector<InputFile> files;     // othrun.input_files
  std::vector<std::string> fetched;  // othrun.fetched_inputs: "REFERENCE COMMIT SHA256"
};

// `known`: files hashed before (the step's previous product, the last run), for the fast path.
StepFingerprint fingerprint_step(const PlannedStep& step, const Store& store,
                                 const std::vector<InputFile>& known);
// Writes othrun.plugin_build and othrun.input_files on a product being written.
void record_fingerprint(Product& product, const StepFingerprint& fingerprint);
// The references a product records having fetched, as "REFERENCE COMMIT SHA256" (COMMIT "-" for a
// URL); empty for products of steps that named none.
std::vector<std::string> recorded_fetched_inputs(const Product& product);
// One line per reference whose commit or content differs between `before` and `now` (both as
// recorded_fetched_inputs gives them), e.g. "hf://o/r/f.pth@main: commit 1234abcd -> 5678ef90".
std::vector<std::string> fetched_changes(const std::vector<std::string>& before,
                                         const std::vector<std::string>& now);

// The files a product records having read (empty for products written before they were recorded).
std::vector<InputFile> recorded_input_files(const Product& product);

}  // namespace othrun
