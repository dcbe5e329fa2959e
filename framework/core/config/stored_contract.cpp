#include "config/stored_contract.hpp"

#include <hdf5.h>

#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include "store/h5_util.hpp"

namespace fs = std::filesystem;

namespace othrun {

namespace {

struct Visit {
  DatasetDecls decls;
};

std::string string_attr(const Attributes& attrs, const char* name) {
  try {
    return attrs.has(name) ? attrs.get_string(name) : "";
  } catch (const Error&) {
    return "";
  }
}

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  if (info->type != H5L_TYPE_HARD) return 0;
  H5Id object(H5Oopen(group, name, H5P_DEFAULT));
  if (!object.valid() || H5Iget_type(object.get()) != H5I_DATASET) return 0;
  DatasetDecl decl;
  decl.name = name;
  try {
    Dataset dataset(std::move(object), name);
    decl.dtype = dataset.dtype();
    const Attributes attrs = dataset.attrs();
    decl.axes = string_attr(attrs, "axes");
    decl.doc = string_attr(attrs, "doc");
    decl.hook = string_attr(attrs, "hook");
    if (!decl.hook.empty() && attrs.has("positions_start") && attrs.has("positions_stop")) {
      decl.positions =
          PositionRange{attrs.get_int("positions_start"), attrs.get_int("positions_stop")};
    }
  } catch (const Error&) {
    return 0;  // a type othrun does not read: not a dataset a step can name
  }
  static_cast<Visit*>(data)->decls.push_back(std::move(decl));
  return 0;
}

}  // namespace

std::optional<DatasetDecls> stored_datasets(const fs::path& index_path, const std::string& label) {
  if (!Store::stored_kinds(index_path, label)) return std::nullopt;  // also: complete?
  const fs::path path = Store::product_dir_for(index_path) / (label + ".h5");
  h5::silence_errors();
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) return std::nullopt;
  Visit visit;
  if (H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, visit_link, &visit) < 0) {
    return std::nullopt;
  }
  return visit.decls;
}

void check_written(const Product& product, const DatasetDecls& decls) {
  std::string problems;
  for (const auto& decl : decls) {
    std::string problem;
    if (!product.root().contains(decl.name)) {
      problem = "'" + decl.name + "' is missing";
    } else {
      const DType dtype = product.root().dataset(decl.name).dtype();
      if (dtype != decl.dtype) {
        problem =
            "'" + decl.name + "' is " + to_string(dtype) + ", declared " + to_string(decl.dtype);
      }
    }
    if (!problem.empty()) problems += (problems.empty() ? "" : "; ") + problem;
  }
  if (!problems.empty()) {
    throw Error("the product does not hold what its plugin declares (a plugin bug): " + problems);
  }
}

}  // namespace othrun
