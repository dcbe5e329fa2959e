#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include <algorithm>
#include <numeric>

#include "store/h5_util.hpp"

namespace othrun {
namespace {

std::string join_path(const std::string& parent, const std::string& name) {
  if (parent.empty() || parent == "/") return "/" + name;
  return parent + "/" + name;
}

std::string join_names(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// Chunk rows giving about 128 KiB per chunk: big enough for fast row-range I/O, small enough that
// a small dataset (HDF5 allocates whole chunks) does not take megabytes.
hsize_t default_chunk_rows(std::uint64_t row_bytes) {
  const std::uint64_t target = 128 << 10;
  return std::max<hsize_t>(1, target / std::max<std::uint64_t>(row_bytes, 1));
}

}  // namespace

Group::Group(H5Id id, std::string path) : id_(std::move(id)), path_(std::move(path)) {}

bool Group::contains(const std::string& name) const {
  // H5Lexists needs every intermediate link to exist: walk the path one component at a time.
  std::string prefix;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = name.find('/', start);
    prefix = name.substr(0, slash);
    if (H5Lexists(id_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (H5Oexists_by_name(id_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return !name.empty();
}

std::vector<std::string> Group::members() const {
  std::vector<std::string> names;
  H5Literate(
      id_.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

Group Group::create_group(const std::string& name) {
  H5Id link_props(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(link_props.get(), 1);
  H5Id id =
      h5::check_id(H5Gcreate2(id_.get(), name.c_str(), link_props.get(), H5P_DEFAULT, H5P_DEFAULT),
                   "creating group '" + join_path(path_, name) + "'");
  return Group(std::move(id), join_path(path_, name));
}

Group Group::group(const std::string& name) const {
  if (!contains(name)) {
    throw Error("no group '" + name + "' in '" + path_ + "' (members: " + join_names(members()) +
                ")");
  }
  H5Id id = h5::check_id(H5Gopen2(id_.get(), name.c_str(), H5P_DEFAULT),
                         "opening group '" + join_path(path_, name) + "'");
  return Group(std::move(id), join_path(path_, name));
}

Dataset Group::dataset(const std::string& name) const {
  if (!contains(name)) {
    throw Error("no dataset '" + name + "' in '" + path_ + "' (members: " + join_names(members()) +
                ")");
  }
  H5Id id = h5::check_id(H5Dopen2(id_.get(), name.c_str(), H5P_DEFAULT),
                         "opening dataset '" + join_path(path_, name) + "'");
  return Dataset(std::move(id), join_path(path_, name));
}

template <class T>
Dataset Group::create_dataset(const std::string& name, std::vector<std::uint64_t> shape,
                              DatasetOptions options, DType stored) {
  const std::string full = join_path(path_, name);
  if (shape.empty()) throw Error("dataset '" + full + "' needs at least one dimension");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  std::vector<hsize_t> max_dims = dims;
  max_dims[0] = H5S_UNLIMITED;
  const std::uint64_t row_elements =
      std::accumulate(dims.begin() + 1, dims.end(), std::uint64_t{1}, std::multiplies<>());
  std::vector<hsize_t> chunk = dims;
  chunk[0] = options.chunk_rows ? options.chunk_rows
                                : default_chunk_rows(row_elements * dtype_size(stored));
  for (size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(chunk[i], 1);

  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()));
  H5Id props(H5Pcreate(H5P_DATASET_CREATE));
  h5::check(H5Pset_chunk(props.get(), static_cast<int>(chunk.size()), chunk.data()),
            "chunking dataset '" + full + "'");
  if (options.gzip_level > 0) {
    H5Pset_shuffle(props.get());
    h5::check(H5Pset_deflate(props.get(), static_cast<unsigned>(options.gzip_level)),
              "compressing dataset '" + full + "'");
  }
  H5Id link_props(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(link_props.get(), 1);
  H5Id type = h5::file_type(stored);
  H5Id id = h5::check_id(H5Dcreate2(id_.get(), name.c_str(), type.get(), space.get(),
                                    link_props.get(), props.get(), H5P_DEFAULT),
                         "creating dataset '" + full + "'");
  return Dataset(std::move(id), full);
}

#define OTHRUN_GROUP_TYPES(T)                                                               \
  template Dataset Group::create_dataset<T>(const std::string&, std::vector<std::uint64_t>, \
                                            DatasetOptions, DType);
OTHRUN_GROUP_TYPES(std::int8_t)
OTHRUN_GROUP_TYPES(std::uint8_t)
OTHRUN_GROUP_TYPES(std::int16_t)
OTHRUN_GROUP_TYPES(std::int32_t)
OTHRUN_GROUP_TYPES(std::int64_t)
OTHRUN_GROUP_TYPES(std::uint64_t)
OTHRUN_GROUP_TYPES(float)
OTHRUN_GROUP_TYPES(double)
#undef OTHRUN_GROUP_TYPES

}  // namespace othrun
