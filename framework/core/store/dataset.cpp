#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include <numeric>
#include <type_traits>

#include <othrun/tensor.hpp>

#include "store/h5_util.hpp"

namespace othrun {

Dataset::Dataset(H5Id id, std::string path) : id_(std::move(id)), path_(std::move(path)) {}

std::vector<std::uint64_t> Dataset::shape() const {
  H5Id space(H5Dget_space(id_.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

std::uint64_t Dataset::row_size() const {
  auto dims = shape();
  return std::accumulate(dims.begin() + 1, dims.end(), std::uint64_t{1}, std::multiplies<>());
}

DType Dataset::dtype() const {
  H5Id type(H5Dget_type(id_.get()));
  return h5::dtype_of_type(type.get(), path_);
}

void Dataset::check_range(std::uint64_t first, std::uint64_t count, const char* what) const {
  const auto total = rows();
  if (first > total || count > total - first) {
    throw Error(std::string(what) + " rows [" + std::to_string(first) + ", " +
                std::to_string(first + count) + ") of dataset '" + path_ + "', which has " +
                std::to_string(total) + " rows");
  }
}

namespace {
// A memory space shaped like `count` rows of the dataset: with the same rank and row shape as the
// file selection, HDF5 copies whole rows instead of going element by element.
H5Id row_space(hid_t dataset, std::uint64_t count) {
  H5Id space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  dims[0] = count;
  return H5Id(H5Screate_simple(rank, dims.data(), nullptr));
}

// Selects rows [first, first + count) of a dataset's file space.
H5Id select_rows(hid_t dataset, std::uint64_t first, std::uint64_t count) {
  H5Id space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> extent = dims;
  start[0] = first;
  extent[0] = count;
  h5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                                nullptr),
            "selecting rows");
  return space;
}
}  // namespace

template <class T>
void Dataset::write_rows(std::uint64_t first, std::span<const T> data) {
  const auto per_row = row_size();
  if (per_row == 0 || data.size() % per_row != 0) {
    throw Error("writing " + std::to_string(data.size()) + " values to dataset '" + path_ +
                "': not a whole number of rows of " + std::to_string(per_row));
  }
  const std::uint64_t count = data.size() / per_row;
  if (count == 0) return;
  auto dims = shape();
  if (first > dims[0]) {
    throw Error("writing rows from " + std::to_string(first) + " to dataset '" + path_ +
                "' would leave a gap after its " + std::to_string(dims[0]) + " rows");
  }
  if (first + count > dims[0]) {
    std::vector<hsize_t> grown(dims.begin(), dims.end());
    grown[0] = first + count;
    h5::check(H5Dset_extent(id_.get(), grown.data()), "growing dataset '" + path_ + "'");
  }
  H5Id file_space = select_rows(id_.get(), first, count);
  H5Id memory_space = row_space(id_.get(), count);
  if constexpr (std::is_floating_point_v<T>) {
    if (dtype() == DType::Float16) {
      // HDF5's own float->half conversion mis-rounds values just below a power of two; convert
      // here (round to nearest even) and write the bit patterns unchanged.
      std::vector<std::uint16_t> half(data.size());
      for (size_t i = 0; i < data.size(); ++i) half[i] = float_to_half(static_cast<float>(data[i]));
      H5Id type(H5Dget_type(id_.get()));
      h5::check(H5Dwrite(id_.get(), type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                         half.data()),
                "writing dataset '" + path_ + "'");
      return;
    }
  }
  h5::check(H5Dwrite(id_.get(), h5::memory_type(dtype_of<T>()), memory_space.get(),
                     file_space.get(), H5P_DEFAULT, data.data()),
            "writing dataset '" + path_ + "'");
}

template <class T>
void Dataset::read_rows(std::uint64_t first, std::uint64_t count, std::span<T> out) const {
  check_range(first, count, "reading");
  const auto per_row = row_size();
  if (out.size() != count * per_row) {
    throw Error("reading " + std::to_string(count) + " rows of dataset '" + path_ +
                "' into a buffer of " + std::to_string(out.size()) + " values (need " +
                std::to_string(count * per_row) + ")");
  }
  if (count == 0) return;
  H5Id file_space = select_rows(id_.get(), first, count);
  H5Id memory_space = row_space(id_.get(), count);
  if constexpr (std::is_floating_point_v<T>) {
    if (dtype() == DType::Float16) {
      // Read the bit patterns and widen them here, exactly, like the write path.
      std::vector<std::uint16_t> half(out.size());
      H5Id type(H5Dget_type(id_.get()));
      h5::check(H5Dread(id_.get(), type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                        half.data()),
                "reading dataset '" + path_ + "'");
      for (size_t i = 0; i < half.size(); ++i) out[i] = static_cast<T>(half_to_float(half[i]));
      return;
    }
  }
  h5::check(H5Dread(id_.get(), h5::memory_type(dtype_of<T>()), memory_space.get(), file_space.get(),
                    H5P_DEFAULT, out.data()),
            "reading dataset '" + path_ + "'");
}

#define OTHRUN_DATASET_TYPES(T)                                            \
  template void Dataset::write_rows<T>(std::uint64_t, std::span<const T>); \
  template void Dataset::read_rows<T>(std::uint64_t, std::uint64_t, std::span<T>) const;
OTHRUN_DATASET_TYPES(std::int8_t)
OTHRUN_DATASET_TYPES(std::uint8_t)
OTHRUN_DATASET_TYPES(std::int16_t)
OTHRUN_DATASET_TYPES(std::int32_t)
OTHRUN_DATASET_TYPES(std::int64_t)
OTHRUN_DATASET_TYPES(std::uint64_t)
OTHRUN_DATASET_TYPES(float)
OTHRUN_DATASET_TYPES(double)
#undef OTHRUN_DATASET_TYPES

}  // namespace othrun
