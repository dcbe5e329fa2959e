#include <othrun/analysis/inputs.hpp>

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>

namespace othrun::analysis {

// ---- positions ----------------------------------------------------------------------------------

std::string PositionSpan::to_string() const { return fmt::format("[{}, {})", first, stop()); }

PositionSpan read_position_span(const Attributes& object, std::int64_t columns,
                                const std::string& place) {
  if (!object.has("positions_start") || !object.has("positions_stop")) {
    throw DataError(fmt::format(
        "{}: no attributes positions_start / positions_stop, so the model positions of its {} "
        "columns are unknown (a product written before they were recorded); rerun the step that "
        "made it",
        place, columns));
  }
  const PositionSpan span{object.get_int("positions_start"),
                          object.get_int("positions_stop") - object.get_int("positions_start")};
  if (span.first < 0 || span.count != columns) {
    throw DataError(fmt::format(
        "{}: positions_start / positions_stop = {} do not describe its {} stored positions "
        "(expected positions_stop - positions_start = {}, positions_start >= 0)",
        place, span.to_string(), columns, columns));
  }
  return span;
}

void write_position_span(Attributes object, const PositionSpan& span) {
  object.set("positions_start", span.first);
  object.set("positions_stop", span.stop());
}

// ---- activations --------------------------------------------------------------------------------

std::string ActivationReader::dataset_path(const std::string& hook) { return hook; }

ActivationReader::ActivationReader(const Product& product, const std::string& hook) : hook_(hook) {
  const std::string path = dataset_path(hook);
  if (!product.root().contains(path)) {
    throw DataError("product '" + product.label() + "' has no cached hook '" + hook +
                    "' (dataset /" + path + ")");
  }
  dataset_.emplace(product.root().dataset(path));
  const auto shape = dataset_->shape();
  if (shape.size() < 3) {
    throw DataError("activations '" + hook + "' in product '" + product.label() +
                    "' should be [games, positions, ...], not " + std::to_string(shape.size()) +
                    "-D");
  }
  games_ = shape[0];
  span_ = read_position_span(
      dataset_->attrs(), static_cast<std::int64_t>(shape[1]),
      "product '" + product.label() + "' (" + product.path().string() + "), dataset /" + path);
  width_ = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) width_ *= static_cast<std::int64_t>(shape[i]);
}

std::vector<float> ActivationReader::read(std::uint64_t first, std::uint64_t count) const {
  return dataset_->read_rows<float>(first, count);
}

std::vector<float> ActivationReader::read_unit(std::uint64_t first, std::uint64_t count,
                                               std::int64_t index) const {
  if (index < 0 || index >= width_) {
    throw DataError("unit index " + std::to_string(index) + " is outside hook '" + hook_ +
                    "' of width " + std::to_string(width_));
  }
  const std::vector<float> all = read(first, count);
  std::vector<float> out(static_cast<std::size_t>(count) * static_cast<std::size_t>(span_.count));
  for (std::size_t r = 0; r < out.size(); ++r)
    out[r] = all[r * static_cast<std::size_t>(width_) + static_cast<std::size_t>(index)];
  return out;
}

// ---- features (CSR) -----------------------------------------------------------------------------

FeatureWriter::FeatureWriter(Group& group, std::int64_t d_sae, const PositionSpan& positions,
                             bool half_values, Ranks* ranks)
    : group_(group),
      ranks_(ranks && ranks->size() > 1 ? ranks : nullptr),
      d_sae_(d_sae),
      positions_(positions.count),
      narrow_index_(d_sae <= 32767) {
  row_ptr_.emplace(group.create_dataset<std::int64_t>("row_ptr", {0}));
  row_ptr_->attrs().set("doc",
                        "CSR row pointers: row r (= game * positions + j, j the position "
                        "positions_start + j) holds entries [row_ptr[r], row_ptr[r + 1]) of index "
                        "and value");
  // The first rank's pointers start with 0; the others' continue from the rank before.
  const std::vector<std::int64_t> zero{0};
  if (!ranks_ || ranks_->is_root()) row_ptr_->append_rows<std::int64_t>(zero);
  if (narrow_index_) {
    index_.emplace(group.create_dataset<std::int16_t>("index", {0}));
  } else {
    index_.emplace(group.create_dataset<std::int32_t>("index", {0}));
  }
  index_->attrs().set("doc", "feature index of each non-zero activation");
  value_.emplace(
      group.create_dataset<float>("value", {0}, {}, half_values ? DType::Float16 : DType::Float32));
  value_->attrs().set("doc", "non-zero feature activations, row by row, features increasing");
  auto a = group.attrs();
  a.set("format", kFeaturesFormat);
  a.set("d_sae", d_sae);
  a.set("positions", positions.count);
  write_position_span(a, positions);
}

void FeatureWriter::append(const SparseRows& rows) {
  std::vector<std::int64_t> ptr(rows.row_ptr.begin() + 1, rows.row_ptr.end());
  for (auto& p : ptr) p += nnz_;
  row_ptr_->append_rows<std::int64_t>(ptr);
  if (narrow_index_) {
    std::vector<std::int16_t> narrow(rows.index.begin(), rows.index.end());
    index_->append_rows<std::int16_t>(narrow);
  } else {
    index_->append_rows<std::int32_t>(rows.index);
  }
  value_->append_rows<float>(rows.value);
  nnz_ += rows.nnz();
}

void FeatureWriter::finish(std::uint64_t games) {
  std::int64_t total = nnz_;
  if (ranks_) {
    for (Dataset* d : {&*row_ptr_, &*index_, &*value_}) split_rows(*ranks_, *d);
    const std::vector<std::int64_t> nnz = all_gather_values(*ranks_, nnz_);
    const auto rank = static_cast<std::ptrdiff_t>(ranks_->rank());
    const std::int64_t before = std::accumulate(nnz.begin(), nnz.begin() + rank, std::int64_t{0});
    total = std::accumulate(nnz.begin(), nnz.end(), std::int64_t{0});
    shift_row_pointers(before);
  }
  group_.attrs().set("games", static_cast<std::int64_t>(games));
  group_.attrs().set("nnz", total);
}

void FeatureWriter::shift_row_pointers(std::int64_t offset) {
  if (offset == 0) return;
  constexpr std::uint64_t kRows = 1 << 20;
  for (std::uint64_t first = 0; first < row_ptr_->rows(); first += kRows) {
    auto ptr = row_ptr_->read_rows<std::int64_t>(first, std::min(kRows, row_ptr_->rows() - first));
    for (auto& p : ptr) p += offset;
    row_ptr_->write_rows<std::int64_t>(first, ptr);
  }
}

FeatureReader::FeatureReader(const Product& product)
    : FeatureReader(product.root().group("features"),
                    "product '" + product.label() + "' (" + product.path().string() + ")") {}

FeatureReader::FeatureReader(const Group& group) : FeatureReader(group, "a features product") {}

FeatureReader::FeatureReader(const Group& group, const std::string& where) {
  auto a = group.attrs();
  if (!a.has("format") || a.get_string("format") != kFeaturesFormat) {
    throw DataError(where + ": group /" + group.path() + " is not " + std::string(kFeaturesFormat) +
                    " feature activations (written by sae_encode)");
  }
  games_ = static_cast<std::uint64_t>(a.get_int("games"));
  span_ = read_position_span(a, a.get_int("positions"), where + ", group /" + group.path());
  d_sae_ = a.get_int("d_sae");
  row_ptr_.emplace(group.dataset("row_ptr"));
  index_.emplace(group.dataset("index"));
  value_.emplace(group.dataset("value"));
}

SparseRows FeatureReader::read(std::uint64_t first, std::uint64_t count) const {
  const std::uint64_t row0 = first * static_cast<std::uint64_t>(span_.count);
  const std::uint64_t rows = count * static_cast<std::uint64_t>(span_.count);
  SparseRows out;
  out.cols = d_sae_;
  out.row_ptr = row_ptr_->read_rows<std::int64_t>(row0, rows + 1);
  const std::int64_t base = out.row_ptr.front();
  for (auto& p : out.row_ptr) p -= base;
  const auto nnz = static_cast<std::uint64_t>(out.row_ptr.back());
  out.index = index_->read_rows<std::int32_t>(static_cast<std::uint64_t>(base), nnz);
  out.value = value_->read_rows<float>(static_cast<std::uint64_t>(base), nnz);
  return out;
}

std::vector<float> FeatureReader::read_unit(std::uint64_t first, std::uint64_t count,
                                            std::int64_t f) const {
  if (f < 0 || f >= d_sae_) {
    throw DataError("feature " + std::to_string(f) + " is outside 0.." +
                    std::to_string(d_sae_ - 1));
  }
  const SparseRows rows = read(first, count);
  std::vector<float> out(static_cast<std::size_t>(rows.rows()), 0.0f);
  for (std::int64_t r = 0; r < rows.rows(); ++r) {
    for (auto i = rows.row_ptr[static_cast<std::size_t>(r)];
         i < rows.row_ptr[static_cast<std::size_t>(r) + 1]; ++i) {
      if (rows.index[static_cast<std::size_t>(i)] == f)
        out[static_cast<std::size_t>(r)] = rows.value[static_cast<std::size_t>(i)];
    }
  }
  return out;
}

// ---- labels -------------------------------------------------------------------------------------

RowLabels row_labels(const games::GameBatch& batch, const PositionSpan& positions,
                     games::Frame frame, othello::MineTheirs convention) {
  RowLabels out;
  const auto columns = static_cast<std::size_t>(positions.count);
  const auto rows = static_cast<std::size_t>(batch.count) * columns;
  out.codes.assign(rows * 64, 0);
  out.keep.assign(rows, 0);
  std::array<std::int8_t, 64> board{};
  for (std::uint64_t g = 0; g < batch.count; ++g) {
    for (std::size_t j = 0; j < columns; ++j) {
      const std::size_t r = static_cast<std::size_t>(g) * columns + j;
      const std::int64_t t = positions.position(static_cast<std::int64_t>(j));
      if (t >= batch.length(g) || t >= games::kPositions) continue;
      out.keep[r] = 1;
      batch.board(g, static_cast<int>(t), frame, board, convention);
      for (int s = 0; s < 64; ++s)
        out.codes[r * 64 + static_cast<std::size_t>(s)] =
            state_code(board[static_cast<std::size_t>(s)]);
    }
  }
  return out;
}

void check_alignment(std::uint64_t games_a, std::uint64_t games_b, const PositionSpan& positions,
                     const std::string& what) {
  if (games_a > games_b) {
    throw DataError(what + ": " + std::to_string(games_a) + " games of activations but only " +
                    std::to_string(games_b) + " games of ground truth");
  }
  if (positions.first < 0 || positions.stop() > games::kPositions) {
    throw DataError(what + ": positions " + positions.to_string() +
                    " are not all board positions of a game (0..59)");
  }
}

}  // namespace othrun::analysis
