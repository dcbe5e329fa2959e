#include <othrun/train/checkpoint_file.hpp>

#include <othrun/log.hpp>
#include <othrun/pth.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace othrun::train {

namespace fs = std::filesystem;

namespace {

// step_000000123.pth -> 123; -1 for any other name.
std::int64_t step_of(const fs::path& file) {
  const std::string name = file.filename().string();
  if (name.size() != 18 || name.rfind("step_", 0) != 0 || file.extension() != ".pth") return -1;
  try {
    return std::stoll(name.substr(5, 9));
  } catch (const std::exception&) {
    return -1;
  }
}

std::vector<std::pair<std::int64_t, fs::path>> list_checkpoints(const fs::path& dir) {
  std::vector<std::pair<std::int64_t, fs::path>> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::int64_t step = step_of(entry.path());
    if (step >= 0) out.emplace_back(step, entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

fs::path checkpoint_path(const fs::path& dir, std::int64_t step) {
  return dir / fmt::format("step_{:09d}.pth", step);
}

void save_checkpoint(const fs::path& dir, const TrainCheckpoint& checkpoint) {
  fs::create_directories(dir);
  PyValue::DictItems items{{"fingerprint", checkpoint.fingerprint},
                           {"step", checkpoint.step},
                           {"cursor", static_cast<std::int64_t>(checkpoint.cursor)},
                           {"tensors", make_state_dict(checkpoint.tensors)}};
  save_pth(checkpoint_path(dir, checkpoint.step), PyValue::dict(std::move(items)));
}

std::optional<TrainCheckpoint> load_latest_checkpoint(const fs::path& dir,
                                                      const std::string& fingerprint) {
  auto files = list_checkpoints(dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    try {
      const PthFile file = load_pth(it->second);
      if (file.root["fingerprint"].as_string() != fingerprint) {
        log::warn("checkpoint {} belongs to another configuration: not resumed",
                  it->second.string());
        continue;
      }
      TrainCheckpoint checkpoint;
      checkpoint.fingerprint = fingerprint;
      checkpoint.step = file.root["step"].as_int();
      checkpoint.cursor = static_cast<std::uint64_t>(file.root["cursor"].as_int());
      checkpoint.tensors = with_prefix_removed(file.tensors, "tensors");
      return checkpoint;
    } catch (const std::exception& e) {
      log::warn("skipping unreadable checkpoint {}: {}", it->second.string(), e.what());
    }
  }
  return std::nullopt;
}

void prune_checkpoints(const fs::path& dir, std::int64_t keep) {
  auto files = list_checkpoints(dir);
  const auto excess = static_cast<std::int64_t>(files.size()) - std::max<std::int64_t>(keep, 1);
  for (std::int64_t i = 0; i < excess; ++i) fs::remove(files[static_cast<std::size_t>(i)].second);
}

fs::path checkpoint_dir_for(const fs::path& product_path, const std::string& label) {
  return product_path.parent_path() / (label + ".checkpoints");
}

std::vector<NamedTensor> with_prefix_removed(const std::vector<NamedTensor>& tensors,
                                             const std::string& prefix) {
  std::vector<NamedTensor> out;
  const std::string head = prefix + ".";
  for (const auto& t : tensors) {
    if (t.name.rfind(head, 0) == 0) out.push_back({t.name.substr(head.size()), t.tensor});
  }
  return out;
}

}  // namespace othrun::train
