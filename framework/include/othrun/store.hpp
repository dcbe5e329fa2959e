// The HDF5 activation store: the products of an experiment's steps.
//
// Layout on disk (see docs/store.md): `<store>.h5` is a small index whose members are HDF5 external
// links, one per finished step, to `<store>.d/<label>.h5`. A step writes `<label>.h5.partial`; the
// host renames it only once it is complete, together with the index (all or nothing). A killed run
// can thus lose only the step in progress, and h5py opens `<store>.h5` and sees `f["<label>/..."]`.
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
#include <othrun/error.hpp>

namespace othrun {

// The path given as a store is not one othrun may use (e.g. an existing file that is not a store
// index, which othrun refuses to overwrite).
class StoreError : public Error {
 public:
  using Error::Error;
};

// Another othrun run holds the store's lock.
class StoreBusy : public Error {
 public:
  StoreBusy(const std::string& message, long holder_pid) : Error(message), pid_(holder_pid) {}
  long holder_pid() const { return pid_; }  // 0 when unknown

 private:
  long pid_;
};

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
  std::int64_t release();  // gives up ownership without closing

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

// What a product slot `<store>.d/<label>.h5` holds.
struct ProductFileStatus {
  enum class State { Missing, Complete, Damaged } state = State::Missing;
  std::string problem;  // Damaged: why, e.g. "truncated file" or "no othrun.complete mark"
};

// What Store::recover() found and did.
struct Recovery {
  std::vector<std::filesystem::path> removed;   // leftovers of interrupted runs (*.partial, ...)
  std::vector<std::filesystem::path> restored;  // products put back after an interrupted commit
  std::vector<std::filesystem::path> ignored;   // *.h5 files that are not complete products
  bool index_rebuilt = false;
};

// An experiment's store: an index file plus one product file per finished step.
class Store {
 public:
  // Opens (creating if needed) the store whose index is `index_path` (e.g. runs/l6.h5). Throws
  // StoreError when that path exists and is not a store (see problem_with_path).
  explicit Store(std::filesystem::path index_path);

  const std::filesystem::path& index_path() const { return index_path_; }
  const std::filesystem::path& product_dir() const { return product_dir_; }

  // Labels of the complete products, sorted. A file that is not one (damaged, unmarked, not
  // written by othrun) is not a product.
  std::vector<std::string> labels() const;
  bool has(const std::string& label) const;  // a complete product
  ProductFileStatus status(const std::string& label) const;
  // Opens a complete product read-only; throws naming the products that do exist, or saying
  // what is wrong with a damaged one.
  Product open(const std::string& label) const;

  // Host side: starts writing `label` into `<label>.h5.partial` ...
  Product begin(const std::string& label, const Provenance& provenance);
  // ... marks it complete, closes it, and puts it in place together with the new index: all or
  // nothing. On failure (throws) the store is as before and the partial file is gone.
  void commit(Product&& product);
  // ... or drops it: nothing of it is left behind, even when its disk is full.
  void discard(Product&& product);

  // Steps run by N ranks (docs/scale.md). Rank `rank` writes its part of the product `label`
  // begun by rank 0 (`product_id`) into `<label>.ranks/<product_id>-<rank>.h5` ...
  Product begin_rank_part(const std::string& label, const std::string& product_id, int rank);
  // ... and closes it (kept: rank 0 reads it) ...
  void close_rank_part(Product&& part);
  // ... then rank 0, once every rank closed its part, copies its own part into `product` and maps
  // each split_rows() dataset of all `ranks` parts as one virtual dataset, before commit().
  void join_rank_parts(Product& product, int ranks);
  // Deletes the part files of step `label` that its complete product does not map (an older run's,
  // or an interrupted one's).
  void tidy_rank_files(const std::string& label) const;

  // Rewrites the index from the complete product files (atomically: write, then rename).
  void write_index() const;
  // Whether the index exists, is an othrun index and links exactly the complete products.
  bool index_is_current() const;
  // Start of a run, under the StoreLock: removes what interrupted runs left (*.partial,
  // *.h5.replaced, the index's .tmp), logs a warning naming each *.h5 file that is not a complete
  // product (it is ignored, and replaced when its step runs), and rebuilds a missing, damaged or
  // stale index from the complete products.
  Recovery recover();

  // Why `index_path` cannot be a store, or nullopt when it can: it does not exist, or it is an
  // othrun index (an HDF5 file whose root has `othrun.store_format`), or it is a damaged index of a
  // store whose folder holds complete products (recover() rebuilds it). Creates nothing.
  static std::optional<std::string> problem_with_path(const std::filesystem::path& index_path);

  // The folder holding the product files of the store indexed by `index_path`.
  static std::filesystem::path product_dir_for(const std::filesystem::path& index_path);
  // The kinds of complete product `label` in that store, without creating anything; nullopt
  // when there is no such product.
  static std::optional<std::vector<std::string>> stored_kinds(
      const std::filesystem::path& index_path, const std::string& label);

 private:
  std::filesystem::path product_path(const std::string& label) const;
  std::filesystem::path rank_dir(const std::string& label) const;
  void write_index_file(const std::filesystem::path& path,
                        const std::vector<std::string>& labels) const;
  std::filesystem::path index_path_;
  std::filesystem::path product_dir_;
};

// The advisory lock of a store (flock on `<store>.d/othrun.lock`, which holds the holder's pid),
// held by a run from start to end so that two runs never write one store. Reading a store (--check,
// --report, h5py) needs no lock: products and index only ever appear by rename.
class StoreLock {
 public:
  // Takes the lock. When another process holds it: throws StoreBusy naming its pid, or with `wait`
  // waits until it is free (Ctrl-C while waiting throws Interrupted).
  StoreLock(const std::filesystem::path& index_path, bool wait);
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

  static std::filesystem::path lock_path_for(const std::filesystem::path& index_path);

 private:
  int fd_ = -1;
};

// Checks a product or step label: letters, digits, '_', '-', '.'; not empty, no leading '.'.
bool is_valid_label(std::string_view label);

}  // namespace othrun
