#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "runtime/fault.hpp"
#include "runtime/revision.hpp"
#include "store/h5_util.hpp"
#include "store/store_files.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

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
    throw StoreError("store path '" + index_path_.string() + "' names no file");
  if (auto problem = problem_with_path(index_path_)) throw StoreError(*problem);
  product_dir_ = product_dir_for(index_path_);
  std::error_code ec;
  fs::create_directories(product_dir_, ec);
  if (ec) {
    throw StoreError("cannot create the store folder '" + product_dir_.string() +
                     "': " + ec.message());
  }
}

fs::path Store::product_dir_for(const fs::path& index_path) {
  fs::path dir = index_path;
  return dir.replace_extension(".d");
}

std::optional<std::vector<std::string>> Store::stored_kinds(const fs::path& index_path,
                                                            const std::string& label) {
  if (index_path.empty() || !is_valid_label(label)) return std::nullopt;
  h5::silence_errors();
  std::optional<Product> product;
  if (check_product(product_dir_for(index_path) / (label + ".h5"), label, &product).state !=
      ProductFileStatus::State::Complete) {
    return std::nullopt;
  }
  return product->kinds();
}

fs::path Store::product_path(const std::string& label) const {
  return product_dir_ / (label + ".h5");
}

std::vector<std::string> Store::labels() const {
  std::vector<std::string> labels;
  for (const auto& entry : fs::directory_iterator(product_dir_)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".h5") continue;
    const std::string label = entry.path().stem().string();
    if (status(label).state == ProductFileStatus::State::Complete) labels.push_back(label);
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

ProductFileStatus Store::status(const std::string& label) const {
  if (!is_valid_label(label)) return {};
  return check_product(product_path(label), label, nullptr);
}

bool Store::has(const std::string& label) const {
  return status(label).state == ProductFileStatus::State::Complete;
}

Product Store::open(const std::string& label) const {
  std::optional<Product> product;
  const ProductFileStatus found =
      is_valid_label(label) ? check_product(product_path(label), label, &product) : ProductFileStatus{};
  if (found.state == ProductFileStatus::State::Missing) {
    throw Error("store '" + index_path_.string() + "' has no product '" + label +
                "' (products: " + join(labels()) + ")");
  }
  if (found.state == ProductFileStatus::State::Damaged) {
    throw Error("product file " + product_path(label).string() + " is damaged (" + found.problem +
                "); rerun its step to write it anew");
  }
  return std::move(*product);
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
  try {
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
  } catch (...) {
    discard(std::move(product));
    throw;
  }
}

// The commit, in an order that any failure or crash leaves the store either as before or with the
// step committed (docs/store.md, "Crash safety"):
//   1. the product is marked complete, flushed and closed (still `<label>.h5.partial`);
//   2. the new index is written beside the old one (`<store>.h5.tmp`): a read-only index folder
//      or a full disk fails here, before anything was replaced;
//   3. an earlier product of the step is moved aside (`<label>.h5.replaced`), the new one renamed
//      into place, the new index renamed over the old one, and the old product deleted. A failure
//      in 3 moves the old product back; a crash in 3 is finished by the next run's recover().
void Store::commit(Product&& product) {
  Product done = std::move(product);
  const fs::path partial = done.path_;
  const fs::path final_path = product_path(done.label_);
  try {
    done.root().attrs().set("othrun.finished", now_iso8601());
    // Written last: a product file that has this attribute was written to the end.
    done.root().attrs().set(kCompleteAttr, std::int64_t{1});
    done.root_ = Group(H5Id(), "/");
    h5::close_file(done.file_, partial);
    fault::point("commit.closed");
  } catch (...) {
    done.root_ = Group(H5Id(), "/");
    h5::discard_file(done.file_, partial);
    throw;
  }

  std::error_code ignored;
  const fs::path new_index = index_path_.string() + kTemporarySuffix;
  try {
    std::vector<std::string> labels = this->labels();
    if (!std::binary_search(labels.begin(), labels.end(), done.label_)) {
      labels.insert(std::upper_bound(labels.begin(), labels.end(), done.label_), done.label_);
    }
    write_index_file(new_index, labels);
    fault::point("commit.index_written");
  } catch (const std::exception& error) {
    fs::remove(new_index, ignored);
    fs::remove(partial, ignored);
    throw Error("step '" + done.label_ + "' could not be committed: " + error.what());
  }

  const fs::path replaced = final_path.string() + kReplacedSuffix;
  bool had_product = false;
  try {
    had_product = fs::exists(final_path);
    if (had_product) fs::rename(final_path, replaced);
    fault::point("commit.moved_aside");
    fs::rename(partial, final_path);
    fault::point("commit.renamed");
    fs::rename(new_index, index_path_);
  } catch (const std::exception& error) {
    // Back to the store as it was: the old product (if any) in place, the new one gone.
    if (had_product && fs::exists(replaced)) {
      fs::rename(replaced, final_path, ignored);
    } else if (!had_product) {
      fs::remove(final_path, ignored);
    }
    fs::remove(partial, ignored);
    fs::remove(new_index, ignored);
    throw Error("step '" + done.label_ + "' could not be committed: " + error.what());
  }
  fs::remove(replaced, ignored);
  try {
    tidy_rank_files(done.label_);  // the parts of the product just replaced
  } catch (const std::exception&) {
    // Left for the next run's recover(): they cost disk space, not correctness.
  }
  fault::point("commit.done");
}

void Store::discard(Product&& product) {
  Product dropped = std::move(product);
  if (!dropped.file_.valid()) return;  // already committed or discarded
  dropped.root_ = Group(H5Id(), "/");
  h5::discard_file(dropped.file_, dropped.path_);
}

}  // namespace othrun
