// Products written by N ranks (docs/scale.md): each rank writes `<label>.ranks/<id>-<k>.h5`; rank 0
// joins them into the product `<label>.h5`: everything rank 0 wrote is copied, and each dataset
// marked split_rows() becomes an HDF5 virtual dataset concatenating the ranks' rows in rank order.
// The part files it maps stay beside the product and are listed in its `othrun.rank_files`.
#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/ranks.hpp>
#include <othrun/store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "store/h5_util.hpp"
#include "store/store_files.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

// Every attribute of `from` written onto `to`, except `skip`, with its own file type.
herr_t copy_one_attribute(hid_t from, const char* name, const H5A_info_t*, void* data) {
  const auto* args = static_cast<std::pair<hid_t, std::string>*>(data);
  if (args->second == name) return 0;
  H5Id attr(H5Aopen(from, name, H5P_DEFAULT));
  if (!attr.valid()) return -1;
  H5Id type(H5Aget_type(attr.get()));
  H5Id space(H5Aget_space(attr.get()));
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points < 0) return -1;
  std::vector<char> buffer(static_cast<std::size_t>(std::max<hssize_t>(points, 1)) *
                           H5Tget_size(type.get()));
  if (H5Aread(attr.get(), type.get(), buffer.data()) < 0) return -1;
  H5Id copy(H5Acreate2(args->first, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  const herr_t written = copy.valid() ? H5Awrite(copy.get(), type.get(), buffer.data()) : -1;
  if (H5Tdetect_class(type.get(), H5T_VLEN) > 0 || H5Tis_variable_str(type.get()) > 0) {
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buffer.data());
  }
  return written < 0 ? -1 : 0;
}

void copy_attributes(hid_t from, hid_t to, const std::string& skip, const std::string& where) {
  std::pair<hid_t, std::string> args{to, skip};
  h5::check(H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, copy_one_attribute, &args),
            "copying the attributes of " + where);
}

std::vector<std::string> member_names(hid_t group, const std::string& where) {
  std::vector<std::string> names;
  hsize_t count = 0;
  H5G_info_t info;
  h5::check(H5Gget_info(group, &info), "listing " + where);
  count = info.nlinks;
  for (hsize_t i = 0; i < count; ++i) {
    const ssize_t size =
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0) h5::check(-1, "listing " + where);
    std::string name(static_cast<std::size_t>(size), '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                       static_cast<std::size_t>(size) + 1, H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

struct PartFile {
  fs::path path;         // on disk
  std::string relative;  // as the virtual datasets name it: relative to the product's folder
  H5Id file;
};

class Joiner {
 public:
  Joiner(std::vector<PartFile>& parts, const std::string& label) : parts_(parts), label_(label) {}

  void join_group(hid_t from, hid_t to, const std::string& path) {
    for (const std::string& name : member_names(from, path)) {
      const std::string child = path == "/" ? "/" + name : path + "/" + name;
      H5Id object = h5::check_id(H5Oopen(from, name.c_str(), H5P_DEFAULT), "opening " + child);
      const H5I_type_t type = H5Iget_type(object.get());
      object.reset();
      if (type == H5I_GROUP) {
        H5Id source = h5::check_id(H5Gopen2(from, name.c_str(), H5P_DEFAULT), "opening " + child);
        H5Id target =
            h5::check_id(H5Gcreate2(to, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                         "creating " + child);
        copy_attributes(source.get(), target.get(), "", child);
        join_group(source.get(), target.get(), child);
      } else if (type == H5I_DATASET && is_split(from, name)) {
        join_dataset(from, to, name, child);
        ++split_;
      } else {
        h5::check(H5Ocopy(from, name.c_str(), to, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                  "copying " + child);
      }
    }
  }

  int split_datasets() const { return split_; }

 private:
  static bool is_split(hid_t group, const std::string& name) {
    return H5Aexists_by_name(group, name.c_str(), kSplitRowsAttr, H5P_DEFAULT) > 0;
  }

  // The virtual dataset `path`: rows of part 0, then part 1, ...
  void join_dataset(hid_t from, hid_t to, const std::string& name, const std::string& path) {
    const std::string place = fmt::format("step '{}', dataset {}", label_, path);
    H5Id first = h5::check_id(H5Dopen2(from, name.c_str(), H5P_DEFAULT), "opening " + path);
    H5Id type = h5::check_id(H5Dget_type(first.get()), "reading the type of " + path);
    std::vector<std::vector<hsize_t>> shapes;
    for (std::size_t k = 0; k < parts_.size(); ++k) {
      H5Id dataset(H5Dopen2(parts_[k].file.get(), path.c_str(), H5P_DEFAULT));
      if (!dataset.valid()) {
        h5::take_error_message();
        throw Error(fmt::format("{}: rank {} wrote no such dataset ({})", place, k,
                                parts_[k].path.string()));
      }
      H5Id part_type(H5Dget_type(dataset.get()));
      H5Id space(H5Dget_space(dataset.get()));
      std::vector<hsize_t> shape(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.get())));
      H5Sget_simple_extent_dims(space.get(), shape.data(), nullptr);
      if (H5Tequal(part_type.get(), type.get()) <= 0 || shape.empty() ||
          (!shapes.empty() && !std::equal(shape.begin() + 1, shape.end(),
                                          shapes.front().begin() + 1, shapes.front().end()))) {
        throw Error(fmt::format("{}: rank {} wrote it with another type or row shape", place, k));
      }
      shapes.push_back(shape);
    }
    std::vector<hsize_t> total = shapes.front();
    total[0] = 0;
    for (const auto& shape : shapes) total[0] += shape[0];
    std::vector<hsize_t> max_dims = total;
    H5Id space = h5::check_id(
        H5Screate_simple(static_cast<int>(total.size()), total.data(), max_dims.data()),
        "dataspace of " + path);
    H5Id create = h5::check_id(H5Pcreate(H5P_DATASET_CREATE), "properties of " + path);
    hsize_t offset = 0;
    for (std::size_t k = 0; k < parts_.size(); ++k) {
      const std::vector<hsize_t>& shape = shapes[k];
      if (shape[0] == 0) continue;
      std::vector<hsize_t> start(shape.size(), 0);
      start[0] = offset;
      H5Id source =
          h5::check_id(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                       "dataspace of " + path);
      H5Id slab = h5::check_id(H5Scopy(space.get()), "dataspace of " + path);
      h5::check(H5Sselect_hyperslab(slab.get(), H5S_SELECT_SET, start.data(), nullptr, shape.data(),
                                    nullptr),
                "selecting rows of " + path);
      h5::check(H5Pset_virtual(create.get(), slab.get(), parts_[k].relative.c_str(), path.c_str(),
                               source.get()),
                "mapping rank " + std::to_string(k) + " into " + path);
      offset += shape[0];
    }
    H5Id joined = h5::check_id(H5Dcreate2(to, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                          create.get(), H5P_DEFAULT),
                               "creating the virtual dataset " + path);
    copy_attributes(first.get(), joined.get(), kSplitRowsAttr, path);
  }

  std::vector<PartFile>& parts_;
  const std::string& label_;
  int split_ = 0;
};

std::string part_name(const std::string& product_id, int rank) {
  return fmt::format("{}-{}.h5", product_id, rank);
}

}  // namespace

void split_rows(const Ranks& ranks, Dataset& dataset) {
  if (ranks.size() > 1) dataset.attrs().set(kSplitRowsAttr, std::int64_t{1});
}

fs::path Store::rank_dir(const std::string& label) const {
  return product_dir_ / (label + kRankDirSuffix);
}

Product Store::begin_rank_part(const std::string& label, const std::string& product_id, int rank) {
  const fs::path dir = rank_dir(label);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StoreError("cannot create the folder '" + dir.string() + "': " + ec.message());
  const fs::path path = dir / part_name(product_id, rank);
  H5Id access = strong_close_access();
  H5Id file = h5::check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                           "creating rank part " + path.string());
  return Product(std::move(file), label, path);
}

void Store::close_rank_part(Product&& part) {
  Product done = std::move(part);
  done.root_ = Group(H5Id(), "/");
  h5::close_file(done.file_, done.path_);
}

void Store::join_rank_parts(Product& product, int ranks) {
  const std::string id = product.product_id();
  std::vector<PartFile> parts;
  for (int k = 0; k < ranks; ++k) {
    PartFile part;
    part.path = rank_dir(product.label()) / part_name(id, k);
    part.relative = (fs::path(product.label() + kRankDirSuffix) / part_name(id, k)).string();
    H5Id access = strong_close_access();
    part.file = H5Id(H5Fopen(part.path.c_str(), H5F_ACC_RDONLY, access.get()));
    if (!part.file.valid()) {
      throw Error(fmt::format("step '{}': the part of rank {} ({}) does not open: {}",
                              product.label(), k, part.path.string(), h5::take_error_message()));
    }
    parts.push_back(std::move(part));
  }
  H5Id source_root = h5::check_id(H5Gopen2(parts[0].file.get(), "/", H5P_DEFAULT),
                                  "opening " + parts[0].path.string());
  copy_attributes(source_root.get(), product.root().id(), "", "the root of rank 0's part");
  Joiner joiner(parts, product.label());
  joiner.join_group(source_root.get(), product.root().id(), "/");
  std::vector<std::string> files;
  if (joiner.split_datasets() > 0) {
    for (const auto& part : parts) files.push_back(part.relative);
  }
  product.root().attrs().set("othrun.ranks", static_cast<std::int64_t>(ranks));
  product.root().attrs().set(kRankFilesAttr, files);
}

void Store::tidy_rank_files(const std::string& label) const {
  const fs::path dir = rank_dir(label);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::set<fs::path> keep;
  std::optional<Product> product;
  if (check_product(product_path(label), label, &product).state ==
          ProductFileStatus::State::Complete &&
      product->root().attrs().has(kRankFilesAttr)) {
    for (const auto& file : product->root().attrs().get_strings(kRankFilesAttr)) {
      keep.insert(product_dir_ / file);
    }
  }
  product.reset();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (keep.count(entry.path())) continue;
    fs::remove(entry.path(), ec);
    log::debug("removed {}, a rank's part no product uses", entry.path().string());
  }
  if (keep.empty()) fs::remove(dir, ec);
}

}  // namespace othrun
