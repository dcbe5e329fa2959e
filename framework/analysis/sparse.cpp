#include <othrun/analysis/sparse.hpp>

namespace othrun::analysis {

void SparseRows::append_dense(const float* dense, std::int64_t rows) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = dense + r * cols;
    for (std::int64_t c = 0; c < cols; ++c) {
      if (row[c] != 0.0f) {
        index.push_back(static_cast<std::int32_t>(c));
        value.push_back(row[c]);
      }
    }
    row_ptr.push_back(static_cast<std::int64_t>(value.size()));
  }
}

std::vector<float> SparseRows::to_dense() const {
  std::vector<float> out(static_cast<std::size_t>(rows() * cols), 0.0f);
  for (std::int64_t r = 0; r < rows(); ++r) {
    for (auto i = row_ptr[static_cast<std::size_t>(r)];
         i < row_ptr[static_cast<std::size_t>(r) + 1]; ++i) {
      out[static_cast<std::size_t>(r * cols + index[static_cast<std::size_t>(i)])] =
          value[static_cast<std::size_t>(i)];
    }
  }
  return out;
}

}  // namespace othrun::analysis
