#include "runtime/fingerprint.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/store.hpp>

#include "runtime/build_id.hpp"
#include "runtime/content_hash.hpp"
#include "runtime/runner.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

constexpr const char* kInputFilesAttr = "othrun.input_files";
constexpr const char* kPluginBuildAttr = "othrun.plugin_build";
constexpr const char* kFetchedInputsAttr = "othrun.fetched_inputs";

std::optional<InputFile> stat_file(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  InputFile file;
  file.path = path.string();
  file.size = static_cast<std::uint64_t>(info.st_size);
  file.mtime_ns = std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
  file.ctime_ns = std::int64_t{info.st_ctim.tv_sec} * 1'000'000'000 + info.st_ctim.tv_nsec;
  return file;
}

// The plugin library's build id, read once per library per process.
const std::string& build_id_of(const fs::path& library) {
  static std::map<fs::path, std::string> ids;
  auto it = ids.find(library);
  if (it == ids.end()) it = ids.emplace(library, plugin_build_id(library)).first;
  return it->second;
}

}  // namespace

std::string to_record(const InputFile& file) {
  return fmt::format("{} {} {} {} {}", file.sha256, file.size, file.mtime_ns, file.ctime_ns,
                     file.path);
}

std::optional<InputFile> parse_input_file(const std::string& record) {
  std::istringstream in(record);
  InputFile file;
  if (!(in >> file.sha256 >> file.size >> file.mtime_ns >> file.ctime_ns)) return std::nullopt;
  in.get();  // the space before the path, which may itself hold spaces
  std::getline(in, file.path);
  if (file.path.empty() || file.sha256.size() != 64) return std::nullopt;
  return file;
}

std::vector<InputFile> stat_input_files(const PlannedStep& step) {
  std::vector<InputFile> files;
  for (const auto& spec : step.plugin->schema.params()) {
    if (spec.type != ParamType::Path || !spec.must_exist || !step.config.has(spec.name)) continue;
    const fs::path path = step.config.get_string(spec.name);
    if (path.empty()) continue;  // "" means "none"
    std::error_code ec;
    std::vector<fs::path> found;
    if (fs::is_directory(path, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
        if (entry.is_regular_file()) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
    } else {
      found.push_back(path);
    }
    for (const auto& one : found) {
      auto file = stat_file(one);
      if (!file) {
        throw Error(
            fmt::format("step '{}': '{}': {} does not exist", step.label, spec.name, one.string()));
      }
      files.push_back(std::move(*file));
    }
  }
  return files;
}

void hash_input_files(std::vector<InputFile>& files, const std::vector<InputFile>& known) {
  for (auto& file : files) {
    auto same = std::find_if(known.begin(), known.end(),
                             [&](const InputFile& k) { return k.same_stat(file); });
    if (same != known.end()) {
      file.sha256 = same->sha256;
      continue;
    }
    log::debug("hashing {} ({} bytes)", file.path, file.size);
    file.sha256 = sha256_file(file.path);
  }
}

std::optional<std::string> file_change(const InputFile& recorded,
                                       const std::vector<InputFile>& known) {
  auto now = stat_file(recorded.path);
  if (!now) return "input file " + recorded.path + " no longer exists";
  if (now->same_stat(recorded)) return std::nullopt;
  if (now->size == recorded.size) {
    std::vector<InputFile> files = {*now};
    hash_input_files(files, known);
    if (files[0].sha256 == recorded.sha256) return std::nullopt;  // touched or copied, same bytes
  }
  return "input file " + recorded.path + " has changed since";
}

StepFingerprint fingerprint_step(const PlannedStep& step, const Store& store,
                                 const std::vector<InputFile>& known) {
  StepFingerprint out;
  for (const auto& spec : step.plugin->schema.params()) {
    if (spec.type != ParamType::Input || !step.config.has(spec.name)) continue;
    const std::string label = step.config.input_label(spec.name);
    out.inputs.push_back(label + ":" + store.open(label).product_id());
  }
  out.plugin_build = build_id_of(step.plugin->path);
  for (const auto& fetched : step.fetched) {
    out.fetched.push_back(fmt::format("{} {} {}", fetched.reference,
                                      fetched.commit.empty() ? "-" : fetched.commit,
                                      fetched.sha256));
  }
  out.files = stat_input_files(step);
  hash_input_files(out.files, known);

  std::string text = std::string(step.plugin->info->name) + "\n" + step.plugin->info->version +
                     "\n" + out.plugin_build + "\n" + step.config.to_yaml();
  for (const auto& input : out.inputs) text += input + "\n";
  // Content, not times: a touched file with the same bytes does not rerun the step.
  for (const auto& file : out.files) text += "file " + file.path + " " + file.sha256 + "\n";
  // The commit a Hub revision resolved to: a moved branch reruns the step.
  for (const auto& fetched : out.fetched) text += "fetched " + fetched + "\n";
  out.hash = stable_hash(text);
  return out;
}

void record_fingerprint(Product& product, const StepFingerprint& fingerprint) {
  Attributes attrs = product.root().attrs();
  attrs.set(kPluginBuildAttr, fingerprint.plugin_build);
  std::vector<std::string> records;
  for (const auto& file : fingerprint.files) records.push_back(to_record(file));
  // An empty text list does not read back in HDF5 1.10: absent means "no input files".
  if (!records.empty()) attrs.set(kInputFilesAttr, records);
  if (!fingerprint.fetched.empty()) attrs.set(kFetchedInputsAttr, fingerprint.fetched);
}

std::vector<std::string> recorded_fetched_inputs(const Product& product) {
  const Attributes attrs = product.root().attrs();
  if (!attrs.has(kFetchedInputsAttr)) return {};
  return attrs.get_strings(kFetchedInputsAttr);
}

std::vector<std::string> fetched_changes(const std::vector<std::string>& before,
                                         const std::vector<std::string>& now) {
  struct Record {
    std::string reference, commit, sha256;
  };
  auto parse = [](const std::string& line) {
    Record r;
    std::istringstream(line) >> r.reference >> r.commit >> r.sha256;
    return r;
  };
  std::vector<std::string> changes;
  for (const auto& line : now) {
    const Record current = parse(line);
    for (const auto& old_line : before) {
      const Record old = parse(old_line);
      if (old.reference != current.reference) continue;
      if (old.commit != current.commit) {
        changes.push_back(fmt::format("{}: commit {} -> {}", current.reference,
                                      old.commit.substr(0, 12), current.commit.substr(0, 12)));
      } else if (old.sha256 != current.sha256) {
        changes.push_back(fmt::format("{}: content sha256 {} -> {}", current.reference,
                                      old.sha256.substr(0, 12), current.sha256.substr(0, 12)));
      }
    }
  }
  return changes;
}

std::vector<InputFile> recorded_input_files(const Product& product) {
  std::vector<InputFile> files;
  const Attributes attrs = product.root().attrs();
  if (!attrs.has(kInputFilesAttr)) return files;
  for (const auto& record : attrs.get_strings(kInputFilesAttr)) {
    if (auto file = parse_input_file(record)) files.push_back(std::move(*file));
  }
  return files;
}

}  // namespace othrun
