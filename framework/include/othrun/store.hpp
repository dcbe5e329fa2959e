// The HDF5 activation store: the products of an experiment's steps.
//
// Layout on disk (see docs/store.md): `<store>.h5` is a small index whose members are HDF5 external
// links, one per finished step, to `<store>.d/<label>.h5`. A step writes `<label>.h5.partial`; the
// host renames it only once it is complete, then rewrites the index atomically. A killed run can
// thus lose only the step in progress, and h5py opens `<store>.h5` and sees `f["<label>/..."]`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <othrun/dtype.hpp>

namespace othrun {

// Owns one HDF5 identifier (file, group, dataset, ...) and closes it exactly once.
class H5Id {
 public:
  H5Id() = default;
  explicit H5Id(std::int64_t id) : id_(id) {}
  H5Id(H5Id&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  H5Id& operator=(H5Id&& other) noexcept;
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() { reset(); }

  std::int64_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  std::int64_t id_ = -1;
};

struct DatasetOptions {
  std::uint64_t chunk_rows = 0;  // rows per chunk; 0 picks about 128 KiB per chunk
  int gzip_level = 0;            // 0: no compression; 1..9: deflate with shuffle
};

// Attributes of a group or dataset: scalars, strings and 1-D numeric arrays. Holds its own
// reference to the object, so it stays valid after the Group or Dataset it came from is gone
// (but, like every object, only while its product file is open).
class Attributes {
 public:
  explicit Attributes(std::int64_t object_id);
  Attributes(const Attributes& other);
  Attributes& operator=(const Attributes& other);
  ~Attributes();

  bool has(const std::string& name) const;
  void set(const std::string& name, const std::string& value);
  void set(const std::string& name, const char* value) { set(name, std::string(value)); }
  void set(const std::string& name, std::int64_t value);
  void set(const std::string& name, double value);
  void set(const std::string& name, const std::vector<std::int64_t>& values);
  void set(const std::string& name, const std::vector<double>& values);
  void set(const std::string& name, const std::vector<std::string>& values);

  std::string get_string(const std::string& name) const;
  std::int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  std::vector<std::int64_t> get_ints(const std::string& name) const;
  std::vector<double> get_floats(const std::string& name) const;
  std::vector<std::string> get_strings(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::int64_t object_;
};

// Groups and datasets are valid while the Product they were opened from is open.
//
// An n-dimensional dataset (stored types: every DType but BFloat16; Bool is stored as uint8) whose
// first axis is "rows" (usually games). Reads and writes take row ranges, so a dataset never has to
// fit in memory. Rows can be appended: the first axis is unlimited.
class Dataset {
 public:
  Dataset(H5Id id, std::string path);

  const std::string& path() const { return path_; }
  std::vector<std::uint64_t> shape() const;
  std::uint64_t rows() const { return shape().at(0); }
  std::uint64_t row_size() const;  // elements per row: the product of shape[1:]
  DType dtype() const;
  Attributes attrs() const { return Attributes(id_.get()); }

  // Writes rows [first, first + data.size() / row_size()), growing the dataset if needed.
  template <class T>
  void write_rows(std::uint64_t first, std::span<const T> data);
  template <class T>
  void append_rows(std::span<const T> data) {
    write_rows<T>(rows(), data);
  }
  // Reads `count` rows starting at `first` into `out` (size count * row_size()), converting to T.
  template <class T>
  void read_rows(std::uint64_t first, std::uint64_t count, std::span<T> out) const;
  template <class T>
  std::vector<T> read_rows(std::uint64_t first, std::uint64_t count) const {
    std::vector<T> out(count * row_size());
    read_rows<T>(first, count, std::span<T>(out));
    return out;
  }
  template <class T>
  std::vector<T> read_all() const {
    return read_rows<T>(0, rows());
  }

  std::int64_t id() const { return id_.get(); }

 private:
  void check_range(std::uint64_t first, std::uint64_t count, const char* what) const;
  H5Id id_;
  std::string path_;
};

// A group of datasets and subgroups. Paths may contain '/'.
class Group {
 public:
  Group(H5Id id, std::string path);

  const std::string& path() const { return path_; }
  Group create_group(const std::string& name);
  Group group(const std::string& name) const;  // opens; throws naming the existing members
  bool contains(const std::string& name) const;
  std::vector<std::string> members() const;

  // Creates a chunked dataset with `shape` (shape[0] may be 0: rows are appended later). T is the
  // element type in memory; `stored` may differ (e.g. Float16 stored from float data).
  template <class T>
  Dataset create_dataset(const std::string& name, std::vector<std::uint64_t> shape,
                         DatasetOptions options = {}, DType stored = dtype_of<T>());
  Dataset dataset(const std::string& name) const;  // opens; throws naming the existing members

  Attributes attrs() const { return Attributes(id_.get()); }
  std::int64_t id() const { return id_.get(); }

 private:
  H5Id id_;
  std::string path_;
};

// Provenance written on every product's root group.
struct Provenance {
  std::string plugin;
  std::string plugin_version;
  std::vector<std::string> kinds;
  std::string config_yaml;
  std::string config_hash;  // of plugin, version, config and input product ids: decides reruns
  std::vector<std::string> inputs;  // "label:product_id" of each product read
  std::string experiment;
};

// One step's product file, open for reading (complete) or being written (partial).
class Product {
 public:
  Product(H5Id file, std::string label, std::filesystem::path path);
  Product(Product&&) noexcept = default;
  Product& operator=(Product&&) noexcept = default;
  ~Product();

  const std::string& label() const { return label_; }
  const std::filesystem::path& path() const { return path_; }
  Group& root() { return root_; }
  const Group& root() const { return root_; }
  // Product id: unique per completed run of a step; downstream steps record it as their input.
  std::string product_id() const;
  std::vector<std::string> kinds() const;

 private:
  friend class Store;
  H5Id file_;
  Group root_;
  std::string label_;
  std::filesystem::path path_;
};

// An experiment's store: an index file plus one product file per finished step.
class Store {
 public:
  // Opens (creating if needed) the store whose index is `index_path` (e.g. runs/l6.h5).
  explicit Store(std::filesystem::path index_path);

  const std::filesystem::path& index_path() const { return index_path_; }
  const std::filesystem::path& product_dir() const { return product_dir_; }

  // Labels of the complete products, sorted.
  std::vector<std::string> labels() const;
  bool has(const std::string& label) const;
  // Opens a complete product read-only; throws naming the products that do exist.
  Product open(const std::string& label) const;

  // Host side: starts writing `label` (discarding any earlier partial or complete one) ...
  Product begin(const std::string& label, const Provenance& provenance);
  // ... marks it complete, closes it, renames it into place and rewrites the index.
  void commit(Product&& product);
  // ... or drops it: nothing of it is left behind.
  void discard(Product&& product);

  // Rewrites the index from the complete product files (atomically: write, then rename).
  void write_index() const;

  // The folder holding the product files of the store indexed by `index_path`.
  static std::filesystem::path product_dir_for(const std::filesystem::path& index_path);
  // The kinds of complete product `label` in that store, without creating anything; nullopt
  // when there is no such product.
  static std::optional<std::vector<std::string>> stored_kinds(
      const std::filesystem::path& index_path, const std::string& label);

 private:
  std::filesystem::path product_path(const std::string& label) const;
  std::filesystem::path index_path_;
  std::filesystem::path product_dir_;
};

// Checks a product or step label: letters, digits, '_', '-', '.'; not empty, no leading '.'.
bool is_valid_label(std::string_view label);

}  // namespace othrun
