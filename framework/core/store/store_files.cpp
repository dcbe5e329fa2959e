#include "store/store_files.hpp"

#include <othrun/error.hpp>

#include "store/h5_util.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

ProductFileStatus damaged(std::string problem) {
  return {ProductFileStatus::State::Damaged, std::move(problem)};
}

herr_t visit_nothing(hid_t, const char*, const H5O_info_t*, void*) { return 0; }

}  // namespace

H5Id strong_close_access() {
  H5Id props(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(props.get(), H5F_CLOSE_STRONG);
  return props;
}

ProductFileStatus check_product(const fs::path& path, const std::string& label,
                            std::optional<Product>* out) {
  std::error_code ec;
  const auto type = fs::status(path, ec).type();
  if (type == fs::file_type::not_found) return {};
  if (type != fs::file_type::regular) return damaged("not a regular file");
  if (fs::file_size(path, ec) == 0) return damaged("empty file");
  H5Id access = strong_close_access();
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()));
  if (!file.valid()) return damaged("unreadable as HDF5: " + h5::take_error_message());
  try {
    Product product(std::move(file), label, path);
    const Attributes attrs = product.root().attrs();
    if (!attrs.has("othrun.label")) return damaged("not written by othrun: no othrun.label");
    if (!attrs.has(kCompleteAttr) || attrs.get_int(kCompleteAttr) != 1) {
      return damaged("no othrun.complete mark: its writing never finished");
    }
    const std::string written_as = attrs.get_string("othrun.label");
    if (written_as != label) return damaged("it is the product of step '" + written_as + "'");
    // Reads every object header: a damaged one shows here rather than in the step reading it.
    if (H5Ovisit2(product.root().id(), H5_INDEX_NAME, H5_ITER_NATIVE, visit_nothing, nullptr,
                  H5O_INFO_BASIC) < 0) {
      return damaged("unreadable object: " + h5::take_error_message());
    }
    // A product joined from N ranks reads its rows from their part files: a missing one would
    // read as fill values, so the product is damaged without it.
    if (attrs.has(kRankFilesAttr)) {
      for (const auto& file : attrs.get_strings(kRankFilesAttr)) {
        if (!fs::is_regular_file(path.parent_path() / file, ec)) {
          return damaged("its rank part " + file + " is missing");
        }
      }
    }
    if (out) out->emplace(std::move(product));
    return {ProductFileStatus::State::Complete, ""};
  } catch (const Error& error) {
    return damaged(error.what());
  }
}

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace othrun
