// Training checkpoints: one torch.save file per saved step in a side folder, holding named tensors
// (model, optimiser moments, curves) plus the step, the game-stream cursor and a fingerprint of the
// training configuration. No LibTorch (written with othrun/pth.hpp, so Python can inspect them).
//
// Files are `<dir>/step_<9 digits>.pth`, written atomically (save_pth writes .partial, then
// renames): a run killed mid-write leaves the previous checkpoint intact.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>

namespace othrun::train {

struct TrainCheckpoint {
  std::string fingerprint;   // the configuration it belongs to; a mismatch means "not ours"
  std::int64_t step = 0;     // optimiser steps done
  std::uint64_t cursor = 0;  // next index of the training game (or sample) stream
  std::vector<NamedTensor> tensors;
};

std::filesystem::path checkpoint_path(const std::filesystem::path& dir, std::int64_t step);
void save_checkpoint(const std::filesystem::path& dir, const TrainCheckpoint& checkpoint);
// The checkpoint with the highest step in `dir` whose fingerprint matches; nullopt if none.
// Unreadable files (e.g. a .partial) are skipped with a warning.
std::optional<TrainCheckpoint> load_latest_checkpoint(const std::filesystem::path& dir,
                                                      const std::string& fingerprint);
// Deletes all but the `keep` newest checkpoint files in `dir`.
void prune_checkpoints(const std::filesystem::path& dir, std::int64_t keep);

// The side folder of a step's checkpoints: `<store>.d/<label>.checkpoints`, beside the product file
// `<store>.d/<label>.h5` (named from the product path, so it is stable across reruns).
std::filesystem::path checkpoint_dir_for(const std::filesystem::path& product_path,
                                         const std::string& label);

// All tensors in `tensors` whose names start with `prefix` + ".", with the prefix removed.
std::vector<NamedTensor> with_prefix_removed(const std::vector<NamedTensor>& tensors,
                                             const std::string& prefix);

}  // namespace othrun::train
