#include "runtime/last_run.hpp"

#include <fstream>
#include <sstream>

#include <othrun/error.hpp>

namespace fs = std::filesystem;

namespace othrun {
namespace {

// Tabs and newlines separate fields and records.
std::string field(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string part; std::getline(in, part, '\t');) fields.push_back(part);
  return fields;
}

}  // namespace

const LastRunStep* LastRun::find(const std::string& label) const {
  for (const auto& step : steps) {
    if (step.label == label) return &step;
  }
  return nullptr;
}

fs::path last_run_path(const fs::path& store_index) {
  fs::path path = store_index;
  path.replace_extension(".last_run.tsv");
  return path;
}

void write_last_run(const fs::path& store_index, const LastRun& run) {
  const fs::path path = last_run_path(store_index);
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << "# othrun: the last run of this store (othrun --status reads it)\n";
    for (const auto& step : run.steps) {
      out << "step\t" << field(step.label) << '\t' << field(step.plugin) << '\t'
          << field(step.status) << '\t' << field(step.detail) << '\n';
    }
    for (const auto& file : run.files) out << "file\t" << field(to_record(file)) << '\n';
    if (!out.flush()) throw Error("cannot write " + temporary.string());
  }
  fs::rename(temporary, path);
}

std::optional<LastRun> read_last_run(const fs::path& store_index) {
  std::ifstream in(last_run_path(store_index), std::ios::binary);
  if (!in) return std::nullopt;
  LastRun run;
  for (std::string line; std::getline(in, line);) {
    const auto fields = split_tabs(line);
    if (fields.size() >= 4 && fields[0] == "step") {
      run.steps.push_back({fields[1], fields[2], fields[3], fields.size() > 4 ? fields[4] : ""});
    } else if (fields.size() == 2 && fields[0] == "file") {
      if (auto file = parse_input_file(fields[1])) run.files.push_back(std::move(*file));
    }
  }
  return run;
}

}  // namespace othrun
