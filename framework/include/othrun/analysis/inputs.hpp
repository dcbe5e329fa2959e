// Reading the products the analyses consume, with each path convention in one place:
//   - activations: the `inference` plugin's product, one dataset per cached hook;
//   - features: the `sae_encode` product (CSR, see docs/analyses.md);
//   - games: per-square class codes and row masks built from games.hpp batches.
// And `write_dataset`, how the analyses write their (small) results.
#pragma once

#include <othrun/analysis/sparse.hpp>
#include <othrun/dtype.hpp>
#include <othrun/games.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace othrun::analysis {

// Writes `data` (row-major, `shape`; empty shape: 1-D of data.size()) as dataset `name` of
// `group` with the attribute doc = `doc`.
template <class T>
void write_dataset(Group& group, const std::string& name, const std::vector<T>& data,
                   std::vector<std::uint64_t> shape, const std::string& doc) {
  if (shape.empty()) shape = {data.size()};
  Dataset d = group.create_dataset<T>(name, std::move(shape));
  d.write_rows<T>(0, data);
  d.attrs().set("doc", doc);
}

// One cached hook of an activations product: [n_games, n_positions, ...] float32 or float16.
class ActivationReader {
 public:
  ActivationReader(const Product& product, const std::string& hook);
  // Where a hook lives inside an activations product (the one place that knows the convention).
  static std::string dataset_path(const std::string& hook);

  const std::string& hook() const { return hook_; }
  std::uint64_t games() const { return games_; }
  std::int64_t positions() const { return positions_; }
  std::int64_t width() const { return width_; }  // values per position (product of shape[2:])
  // Games [first, first + count): [count, positions, width] floats.
  std::vector<float> read(std::uint64_t first, std::uint64_t count) const;
  // One column `index` of the width for games [first, first + count): [count, positions].
  std::vector<float> read_unit(std::uint64_t first, std::uint64_t count, std::int64_t index) const;

 private:
  std::string hook_;
  std::optional<Dataset> dataset_;
  std::uint64_t games_ = 0;
  std::int64_t positions_ = 0, width_ = 0;
};

inline constexpr const char* kFeaturesFormat = "othrun.sparse_csr";

// Writes feature activations of consecutive games as CSR under `group` (features/ in sae_encode).
class FeatureWriter {
 public:
  FeatureWriter(Group& group, std::int64_t d_sae, std::int64_t positions, bool half_values);
  // Appends the rows (count * positions of them, game-major) of the next games.
  void append(const SparseRows& rows);
  void finish(std::uint64_t games);  // records the game count

 private:
  Group& group_;
  std::int64_t d_sae_, positions_;
  bool narrow_index_;
  std::int64_t nnz_ = 0;
  std::optional<Dataset> row_ptr_, index_, value_;
};

// Reads features written by FeatureWriter.
class FeatureReader {
 public:
  explicit FeatureReader(const Group& group);
  std::uint64_t games() const { return games_; }
  std::int64_t positions() const { return positions_; }
  std::int64_t d_sae() const { return d_sae_; }
  // Rows of games [first, first + count).
  SparseRows read(std::uint64_t first, std::uint64_t count) const;
  // One feature's activations for games [first, first + count): [count, positions].
  std::vector<float> read_unit(std::uint64_t first, std::uint64_t count, std::int64_t f) const;

 private:
  std::optional<Dataset> row_ptr_, index_, value_;
  std::uint64_t games_ = 0;
  std::int64_t positions_ = 0, d_sae_ = 0;
};

// Per-square class codes of the first `positions` positions of every game in `batch`:
// [count, positions, 64], 0 empty, 1 theirs (white), 2 mine (black) in the MineTheirs
// (BlackWhite) frame; and keep[r] = 1 when the position exists (t < the game's length).
struct RowLabels {
  std::vector<std::uint8_t> codes;
  std::vector<std::uint8_t> keep;
};
RowLabels row_labels(const games::GameBatch& batch, std::int64_t positions, games::Frame frame,
                     othello::MineTheirs convention);
inline std::uint8_t state_code(std::int8_t state) { return state == 0 ? 0 : (state < 0 ? 1 : 2); }

// Checks that two products cover the same games and positions; throws othrun::DataError.
void check_alignment(std::uint64_t games_a, std::uint64_t games_b, std::int64_t positions,
                     const std::string& what);

}  // namespace othrun::analysis
