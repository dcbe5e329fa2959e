// Sparse rows (CSR) of feature activations: what an SAE encoding produces and sae_encode stores.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace othrun::analysis {

struct SparseRows {
  std::int64_t cols = 0;
  std::vector<std::int64_t> row_ptr{0};  // rows + 1 entries, row_ptr[0] == 0
  std::vector<std::int32_t> index;       // column of each stored value
  std::vector<float> value;              // non-zero values, row by row, columns increasing

  std::int64_t rows() const { return static_cast<std::int64_t>(row_ptr.size()) - 1; }
  std::int64_t nnz() const { return static_cast<std::int64_t>(value.size()); }
  void clear() {
    row_ptr.assign(1, 0);
    index.clear();
    value.clear();
  }
  // Appends the non-zero entries of `rows` dense rows of width `cols`.
  void append_dense(const float* dense, std::int64_t rows);
  // A dense [rows, cols] copy (for tests and small data).
  std::vector<float> to_dense() const;
};

}  // namespace othrun::analysis
