// The store's index: writing it, recognising it, and recovering a store after an interrupted run.
#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/store.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>

#include "runtime/fault.hpp"
#include "runtime/revision.hpp"
#include "store/h5_util.hpp"
#include "store/store_files.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The HDF5 signature, at offset 0 or after a user block of 512, 1024, 2048, ... bytes.
bool has_hdf5_signature(const fs::path& path) {
  static constexpr std::array<char, 8> kSignature = {'\x89', 'H',  'D',    'F',
                                                     '\r',   '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  for (std::streamoff offset = 0; in && offset <= (std::streamoff{1} << 30);
       offset = offset ? offset * 2 : 512) {
    std::array<char, 8> bytes{};
    in.seekg(offset);
    if (!in.read(bytes.data(), bytes.size())) return false;
    if (bytes == kSignature) return true;
  }
  return false;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

// What is at a store's index path.
struct IndexFile {
  enum class Kind { Index, ForeignHdf5, Unreadable } kind = Kind::Unreadable;
  std::string problem;             // not Index: what it is instead
  std::vector<std::string> links;  // Index: its members, sorted
};

IndexFile read_index(const fs::path& path) {
  IndexFile index;
  std::error_code ec;
  if (fs::file_size(path, ec) == 0 && !ec) {
    index.problem = "an empty file";
    return index;
  }
  if (!has_hdf5_signature(path)) {
    index.problem = "not an HDF5 file";
    return index;
  }
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) {
    index.problem = "a damaged HDF5 file: " + h5::take_error_message();
    return index;
  }
  const H5Id root(H5Gopen2(file.get(), "/", H5P_DEFAULT));
  if (!root.valid() || H5Aexists(root.get(), kIndexMarkAttr) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    index.kind = IndexFile::Kind::ForeignHdf5;
    index.problem =
        std::string("an HDF5 file without the ") + kIndexMarkAttr + " attribute of an othrun index";
    return index;
  }
  hsize_t position = 0;
  if (H5Literate(root.get(), H5_INDEX_NAME, H5_ITER_INC, &position, collect_link, &index.links) <
      0) {
    index.problem = "a damaged othrun index: " + h5::take_error_message();
    return index;
  }
  std::sort(index.links.begin(), index.links.end());
  index.kind = IndexFile::Kind::Index;
  return index;
}

bool holds_a_complete_product(const fs::path& folder) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() != ".h5") continue;
    const std::string label = entry.path().stem().string();
    if (is_valid_label(label) &&
        check_product(entry.path(), label, nullptr).state == ProductFileStatus::State::Complete) {
      return true;
    }
  }
  return false;
}

// Why the index at `path` is not the index of exactly `labels`, or nullopt when it is.
std::optional<std::string> index_problem(const fs::path& path,
                                         const std::vector<std::string>& labels) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "missing";
  const IndexFile index = read_index(path);
  if (index.kind != IndexFile::Kind::Index) return index.problem;
  if (index.links != labels) return "out of date (it links: " + join(index.links) + ")";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Store::problem_with_path(const fs::path& index_path) {
  h5::silence_errors();
  const fs::path folder = product_dir_for(index_path);
  std::error_code ec;
  const auto folder_type = fs::status(folder, ec).type();
  if (folder_type != fs::file_type::not_found && folder_type != fs::file_type::directory) {
    return "the store's product folder '" + folder.string() + "' exists and is not a folder";
  }
  const auto type = fs::status(index_path, ec).type();
  if (type == fs::file_type::not_found) return std::nullopt;
  const std::string refusal =
      "store '" + index_path.string() + "' exists and is not an othrun store index (";
  const std::string advice =
      "); othrun does not overwrite it: name a new file or an existing store, or delete it";
  if (type == fs::file_type::directory) return refusal + "a folder" + advice;
  if (type != fs::file_type::regular) return refusal + "not a regular file" + advice;
  const IndexFile index = read_index(index_path);
  if (index.kind == IndexFile::Kind::Index) return std::nullopt;
  // A damaged index (not an HDF5 file that opens) of a store whose folder holds products is
  // rebuilt by recover(). The .h5 name keeps an experiment file or a model that happens to share
  // the folder's stem from ever being taken for one.
  if (index.kind == IndexFile::Kind::Unreadable && index_path.extension() == ".h5" &&
      folder_type == fs::file_type::directory && holds_a_complete_product(folder)) {
    return std::nullopt;
  }
  return refusal + index.problem + advice;
}

void Store::write_index_file(const fs::path& path, const std::vector<std::string>& labels) const {
  fault::point("index.create");
  H5Id access = strong_close_access();
  H5Id file = h5::check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                           "creating store index " + path.string());
  try {
    const std::string folder = product_dir_.filename().string();
    for (const auto& label : labels) {
      // Relative target: HDF5 resolves it against the index file's folder, so the store moves.
      const std::string target = folder + "/" + label + ".h5";
      h5::check(H5Lcreate_external(target.c_str(), "/", file.get(), label.c_str(), H5P_DEFAULT,
                                   H5P_DEFAULT),
                "linking product '" + label + "' into the store index");
    }
    {
      const H5Id root = h5::check_id(H5Gopen2(file.get(), "/", H5P_DEFAULT), path.string());
      Attributes attrs(root.get());
      attrs.set(kIndexMarkAttr, std::int64_t{1});
      attrs.set("othrun.products", labels);
      attrs.set("othrun.framework_revision", std::string(framework_revision()));
    }
    h5::close_file(file, path);
  } catch (...) {
    h5::discard_file(file, path);
    throw;
  }
}

void Store::write_index() const {
  const fs::path temporary = index_path_.string() + kTemporarySuffix;
  try {
    write_index_file(temporary, labels());
    fs::rename(temporary, index_path_);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

bool Store::index_is_current() const { return !index_problem(index_path_, labels()); }

Recovery Store::recover() {
  Recovery recovery;
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(product_dir_)) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  for (const auto& path : entries) {
    const std::string name = path.filename().string();
    if (ends_with(name, ".partial")) {
      fs::remove(path);
      log::info("removed {}, left by an interrupted run", path.string());
      recovery.removed.push_back(path);
    } else if (ends_with(name, std::string(".h5") + kReplacedSuffix)) {
      // A run stopped in the middle of a commit (Store::commit): before the new product was in
      // place the old one is put back, after it the old one is deleted.
      const fs::path product = path.parent_path() / path.stem();
      if (fs::exists(product)) {
        fs::remove(path);
        recovery.removed.push_back(path);
      } else {
        fs::rename(path, product);
        log::warn("restored {}: a run was stopped while replacing it", product.string());
        recovery.restored.push_back(product);
      }
    }
  }
  for (const auto& path : entries) {
    if (path.extension() != ".h5" || !fs::exists(path)) continue;
    const std::string label = path.stem().string();
    const ProductFileStatus found =
        is_valid_label(label) ? status(label)
                              : ProductFileStatus{ProductFileStatus::State::Damaged, "bad name"};
    if (found.state != ProductFileStatus::State::Damaged) continue;
    log::warn(
        "{} is not a complete product ({}): it is ignored, and written anew if a step labelled "
        "'{}' runs",
        path.string(), found.problem, label);
    recovery.ignored.push_back(path);
  }
  for (const auto& path : entries) {  // parts of interrupted or replaced multi-rank runs
    const std::string name = path.filename().string();
    if (ends_with(name, kRankDirSuffix) && fs::is_directory(path)) {
      tidy_rank_files(name.substr(0, name.size() - std::string(kRankDirSuffix).size()));
    }
  }
  const fs::path temporary = index_path_.string() + kTemporarySuffix;
  // Checked first: on a read-only file system even removing a file that is not there fails.
  if (fs::exists(temporary) && fs::remove(temporary)) recovery.removed.push_back(temporary);

  const std::vector<std::string> labels = this->labels();
  if (auto problem = index_problem(index_path_, labels)) {
    const bool new_store = !fs::exists(index_path_) && labels.empty();
    write_index();
    recovery.index_rebuilt = true;
    if (!new_store) {
      log::warn("store index {} was {}: rebuilt from the complete products ({})",
                index_path_.string(), *problem, join(labels));
    }
  }
  return recovery;
}

}  // namespace othrun
