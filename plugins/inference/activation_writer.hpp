// Writes the cached hooks of consecutive chunks of games into an activations product: one dataset
// per hook at the product's root, named by its TransformerLens name, rows = games, axis 1 =
// positions (docs/inference.md). Datasets are created from the first chunk's shapes.
#pragma once

#include <othrun/ranks.hpp>
#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace othrun::inference {

class ActivationWriter {
 public:
  // `n_games`: the rows this writer holds (a rank's share under N ranks, its datasets then
  // split_rows() with `ranks`); write() takes rows of these.
  ActivationWriter(const Ranks& ranks, Group& root, std::uint64_t n_games, bool float16,
                   std::int64_t pos_begin, std::int64_t pos_end);

  // Writes `cache` (every tensor [count, ...]) as rows [first, first + count).
  void write(std::uint64_t first, const gpt::Cache& cache);
  // The same for a cache already in the store layout (the CUDA forward's: attention maps
  // [batch, query, head, key]), contiguous float32.
  void write_stored(std::uint64_t first, const gpt::Cache& cache);
  double seconds() const { return seconds_; }  // spent in the store, for the benchmark

 private:
  Dataset& dataset_for(const std::string& name, const HostTensor& rows);
  void write_rows(std::uint64_t first, const std::string& name, const HostTensor& rows);

  const Ranks& ranks_;
  Group& root_;
  std::uint64_t n_games_;
  bool float16_;
  std::int64_t pos_begin_, pos_end_;
  std::map<std::string, Dataset> datasets_;
  double seconds_ = 0;
};

// The axes of hook `name` as stored, e.g. "game,pos,head,d_head".
std::string stored_axes(const std::string& name);

}  // namespace othrun::inference
