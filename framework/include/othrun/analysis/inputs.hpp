// Reading the products the analyses consume, with each path convention in one place:
//   - activations: the `inference` plugin's product, one dataset per cached hook;
//   - features: the `sae_encode` product (CSR, see docs/analyses.md);
//   - games: per-square class codes and row masks built from games.hpp batches.
// And `write_dataset`, how the analyses write their (small) results.
#pragma once

#include <othrun/analysis/sparse.hpp>
#include <othrun/dtype.hpp>
#include <othrun/games.hpp>
#include <othrun/ranks.hpp>
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

// The model positions held on axis 1 of an activations (or features) product: column j is position
// first + j, the board after move first + j. The inference plugin records them as the attributes
// positions_start / positions_stop (a `positions: 5:54` cache holds columns 0..48 = positions
// 5..53); every analysis labels and aligns its rows by these real positions, never by the column.
struct PositionSpan {
  std::int64_t first = 0;  // position of column 0 (positions_start)
  std::int64_t count = 0;  // columns (positions_stop - positions_start)

  std::int64_t stop() const { return first + count; }
  std::int64_t position(std::int64_t column) const { return first + column; }
  bool contains(std::int64_t position) const { return position >= first && position < stop(); }
  std::string to_string() const;  // "[5, 54)"
  bool operator==(const PositionSpan&) const = default;
};

// Reads positions_start / positions_stop of `object` (the dataset or group `place`, e.g. "product
// 'cache', dataset /blocks.6.hook_resid_pre") and checks them against `columns`, the size of its
// position axis. A product written before these attributes existed is refused (DataError naming
// the place and the attributes): guessing position 0 would silently mislabel a sliced cache.
PositionSpan read_position_span(const Attributes& object, std::int64_t columns,
                                const std::string& place);
// Writes `span` as positions_start / positions_stop on `object`.
void write_position_span(Attributes object, const PositionSpan& span);

// Where stored row `row` (game-major) of games [first_game, ...) comes from.
struct RowId {
  std::uint64_t game = 0;     // index in the games product
  std::int64_t position = 0;  // model position t, the board after move t
};
inline RowId row_id(const PositionSpan& span, std::uint64_t first_game, std::uint64_t row) {
  const auto count = static_cast<std::uint64_t>(span.count);
  return {first_game + row / count, span.first + static_cast<std::int64_t>(row % count)};
}

// One cached hook of an activations product: [n_games, n_positions, ...] float32 or float16. Row g
// is game g of the games the inference ran on; column j is position span().position(j).
class ActivationReader {
 public:
  ActivationReader(const Product& product, const std::string& hook);
  // Where a hook lives inside an activations product (the one place that knows the convention).
  static std::string dataset_path(const std::string& hook);

  const std::string& hook() const { return hook_; }
  std::uint64_t games() const { return games_; }
  std::int64_t positions() const { return span_.count; }  // columns stored per game
  const PositionSpan& span() const { return span_; }      // the real positions of the columns
  std::int64_t width() const { return width_; }  // values per position (product of shape[2:])
  // Game and position of row `row` of what read(first, ...) returns.
  RowId row(std::uint64_t first, std::uint64_t row) const { return row_id(span_, first, row); }
  // Games [first, first + count): [count, positions, width] floats.
  std::vector<float> read(std::uint64_t first, std::uint64_t count) const;
  // One column `index` of the width for games [first, first + count): [count, positions].
  std::vector<float> read_unit(std::uint64_t first, std::uint64_t count, std::int64_t index) const;

 private:
  std::string hook_;
  std::optional<Dataset> dataset_;
  std::uint64_t games_ = 0;
  PositionSpan span_;
  std::int64_t width_ = 0;
};

inline constexpr const char* kFeaturesFormat = "othrun.sparse_csr";

// Writes feature activations of consecutive games as CSR under `group` (features/ in sae_encode),
// with the positions of the activations they encode (attributes positions_start / positions_stop).
class FeatureWriter {
 public:
  // Under N ranks (`ranks`), each rank writes the rows of its share and finish() joins them.
  FeatureWriter(Group& group, std::int64_t d_sae, const PositionSpan& positions, bool half_values,
                Ranks* ranks = nullptr);
  // Appends the rows (count * positions of them, game-major) of the next games.
  void append(const SparseRows& rows);
  // Records the game count (all ranks'). Under N ranks a collective: each rank shifts its row
  // pointers by the entries of the ranks before it, so that the joined row_ptr is global.
  void finish(std::uint64_t games);

 private:
  void shift_row_pointers(std::int64_t offset);

  Group& group_;
  Ranks* ranks_;  // null or one rank: not split
  std::int64_t d_sae_, positions_;
  bool narrow_index_;
  std::int64_t nnz_ = 0;
  std::optional<Dataset> row_ptr_, index_, value_;
};

// Reads features written by FeatureWriter: the group features/ of an sae_encode product, or any
// group (errors then name the group only).
class FeatureReader {
 public:
  explicit FeatureReader(const Product& product);
  explicit FeatureReader(const Group& group);
  std::uint64_t games() const { return games_; }
  std::int64_t positions() const { return span_.count; }  // rows per game
  const PositionSpan& span() const { return span_; }      // the real positions of those rows
  std::int64_t d_sae() const { return d_sae_; }
  // Game and position of row `row` of what read(first, ...) returns.
  RowId row(std::uint64_t first, std::uint64_t row) const { return row_id(span_, first, row); }
  // Rows of games [first, first + count).
  SparseRows read(std::uint64_t first, std::uint64_t count) const;
  // One feature's activations for games [first, first + count): [count, positions].
  std::vector<float> read_unit(std::uint64_t first, std::uint64_t count, std::int64_t f) const;

 private:
  FeatureReader(const Group& group, const std::string& where);

  std::optional<Dataset> row_ptr_, index_, value_;
  std::uint64_t games_ = 0;
  PositionSpan span_;
  std::int64_t d_sae_ = 0;
};

// Per-square class codes of positions `positions` of every game in `batch`, row (g, j) being
// position positions.position(j): [count, positions.count, 64], 0 empty, 1 theirs (white), 2 mine
// (black) in the MineTheirs (BlackWhite) frame; and keep[r] = 1 when the position exists (t < the
// game's length).
struct RowLabels {
  std::vector<std::uint8_t> codes;
  std::vector<std::uint8_t> keep;
};
RowLabels row_labels(const games::GameBatch& batch, const PositionSpan& positions,
                     games::Frame frame, othello::MineTheirs convention);
inline std::uint8_t state_code(std::int8_t state) { return state == 0 ? 0 : (state < 0 ? 1 : 2); }

// Checks that the games product (games_b games) holds the games_a games and the positions of an
// activations/features product; throws othrun::DataError.
void check_alignment(std::uint64_t games_a, std::uint64_t games_b, const PositionSpan& positions,
                     const std::string& what);

}  // namespace othrun::analysis
