#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "runtime/revision.hpp"
#include "store/h5_util.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

constexpr const char* kPartialSuffix = ".h5.partial";
constexpr const char* kCompleteAttr = "othrun.complete";

std::string now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string new_product_id() {
  std::random_device device;
  std::mt19937_64 rng(
      (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return text;
}

// File access properties: closing the file closes every object still open in it, so a product
// is really closed (and flushed) before it is renamed into place.
H5Id strong_close_access() {
  H5Id props(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(props.get(), H5F_CLOSE_STRONG);
  return props;
}

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

bool is_valid_label(std::string_view label) {
  if (label.empty() || label.front() == '.' || label.size() > 200) return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

Product::Product(H5Id file, std::string label, fs::path path)
    : file_(std::move(file)),
      root_(h5::check_id(H5Gopen2(file_.get(), "/", H5P_DEFAULT), "opening " + path.string()), "/"),
      label_(std::move(label)),
      path_(std::move(path)) {}

Product::~Product() = default;

std::string Product::product_id() const { return root_.attrs().get_string("othrun.product_id"); }

std::vector<std::string> Product::kinds() const {
  return root_.attrs().get_strings("othrun.kinds");
}

Store::Store(fs::path index_path) : index_path_(std::move(index_path)) {
  h5::silence_errors();
  if (index_path_.filename().empty())
    throw Error("store path '" + index_path_.string() + "' names no file");
  product_dir_ = product_dir_for(index_path_);
  std::error_code ec;
  fs::create_directories(product_dir_, ec);
  if (ec) {
    throw Error("cannot create the store folder '" + product_dir_.string() + "': " + ec.message());
  }
}

fs::path Store::product_dir_for(const fs::path& index_path) {
  fs::path dir = index_path;
  return dir.replace_extension(".d");
}

std::optional<std::vector<std::string>> Store::stored_kinds(const fs::path& index_path,
                                                            const std::string& label) {
  if (index_path.empty() || !is_valid_label(label)) return std::nullopt;
  const fs::path path = product_dir_for(index_path) / (label + ".h5");
  if (!fs::exists(path)) return std::nullopt;
  h5::silence_errors();
  H5Id access = strong_close_access();
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()));
  if (!file.valid()) return std::nullopt;
  Product product(std::move(file), label, path);
  if (!product.root().attrs().has(kCompleteAttr)) return std::nullopt;
  return product.kinds();
}

fs::path Store::product_path(const std::string& label) const {
  return product_dir_ / (label + ".h5");
}

std::vector<std::string> Store::labels() const {
  std::vector<std::string> labels;
  for (const auto& entry : fs::directory_iterator(product_dir_)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().extension() == ".h5") {
      labels.push_back(name.substr(0, name.size() - 3));
    }
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

bool Store::has(const std::string& label) const {
  return is_valid_label(label) && fs::exists(product_path(label));
}

Product Store::open(const std::string& label) const {
  if (!has(label)) {
    throw Error("store '" + index_path_.string() + "' has no product '" + label +
                "' (products: " + join(labels()) + ")");
  }
  const fs::path path = product_path(label);
  H5Id access = strong_close_access();
  H5Id file = h5::check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()),
                           "opening product file " + path.string());
  Product product(std::move(file), label, path);
  if (!product.root().attrs().has(kCompleteAttr)) {
    throw Error("product file " + path.string() + " is not marked complete");
  }
  return product;
}

Product Store::begin(const std::string& label, const Provenance& provenance) {
  if (!is_valid_label(label)) {
    throw Error("'" + label + "' is not a valid product label (letters, digits, '_', '-', '.')");
  }
  const fs::path partial = product_dir_ / (label + kPartialSuffix);
  fs::remove(partial);
  H5Id access = strong_close_access();
  H5Id file = h5::check_id(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                           "creating product file " + partial.string());
  Product product(std::move(file), label, partial);
  Attributes attrs = product.root().attrs();
  attrs.set("othrun.label", label);
  attrs.set("othrun.plugin", provenance.plugin);
  attrs.set("othrun.plugin_version", provenance.plugin_version);
  attrs.set("othrun.kinds", provenance.kinds);
  attrs.set("othrun.config", provenance.config_yaml);
  attrs.set("othrun.config_hash", provenance.config_hash);
  attrs.set("othrun.inputs", provenance.inputs);
  attrs.set("othrun.experiment", provenance.experiment);
  attrs.set("othrun.framework_revision", std::string(framework_revision()));
  attrs.set("othrun.started", now_iso8601());
  attrs.set("othrun.product_id", new_product_id());
  return product;
}

void Store::commit(Product&& product) {
  Product done = std::move(product);
  done.root().attrs().set("othrun.finished", now_iso8601());
  // Written last: a product file that has this attribute was written to the end.
  done.root().attrs().set(kCompleteAttr, std::int64_t{1});
  h5::check(H5Fflush(done.file_.get(), H5F_SCOPE_GLOBAL), "flushing " + done.path_.string());
  const fs::path partial = done.path_;
  done.root_ = Group(H5Id(), "/");
  done.file_.reset();
  fs::rename(partial, product_path(done.label_));
  write_index();
}

void Store::discard(Product&& product) {
  Product dropped = std::move(product);
  const fs::path partial = dropped.path_;
  dropped.root_ = Group(H5Id(), "/");
  dropped.file_.reset();
  fs::remove(partial);
}

void Store::write_index() const {
  const fs::path temporary = index_path_.string() + ".tmp";
  {
    H5Id file = h5::check_id(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                             "creating store index " + temporary.string());
    const auto labels = this->labels();
    const std::string folder = product_dir_.filename().string();
    for (const auto& label : labels) {
      // Relative target: HDF5 resolves it against the index file's folder, so the store moves.
      const std::string target = folder + "/" + label + ".h5";
      h5::check(H5Lcreate_external(target.c_str(), "/", file.get(), label.c_str(), H5P_DEFAULT,
                                   H5P_DEFAULT),
                "linking product '" + label + "' into the store index");
    }
    H5Id root(H5Gopen2(file.get(), "/", H5P_DEFAULT));
    Attributes attrs(root.get());
    attrs.set("othrun.store_format", std::int64_t{1});
    attrs.set("othrun.products", labels);
    attrs.set("othrun.framework_revision", std::string(framework_revision()));
  }
  fs::rename(temporary, index_path_);
}

}  // namespace othrun
