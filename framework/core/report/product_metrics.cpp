#include "report/product_metrics.hpp"

#include <hdf5.h>

#include <optional>

#include <othrun/store.hpp>

namespace othrun::report {
namespace {

std::vector<std::string> attribute_names(hid_t object) {
  std::vector<std::string> names;
  H5Aiterate2(
      object, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

// The attribute's value when it is one integer or floating-point number.
std::optional<Metric> scalar_number(hid_t object, const std::string& name) {
  const hid_t attr = H5Aopen(object, name.c_str(), H5P_DEFAULT);
  if (attr < 0) return std::nullopt;
  const hid_t type = H5Aget_type(attr);
  const hid_t space = H5Aget_space(attr);
  std::optional<Metric> out;
  const H5T_class_t type_class = H5Tget_class(type);
  if ((type_class == H5T_INTEGER || type_class == H5T_FLOAT) &&
      H5Sget_simple_extent_npoints(space) == 1) {
    double value = 0;
    if (H5Aread(attr, H5T_NATIVE_DOUBLE, &value) >= 0) {
      out = Metric{name, value, type_class == H5T_INTEGER};
    }
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attr);
  return out;
}

void add_numbers(hid_t object, const std::string& prefix, std::vector<Metric>& out) {
  for (const auto& name : attribute_names(object)) {
    if (name.rfind("othrun.", 0) == 0) continue;  // provenance, shown on its own
    if (auto metric = scalar_number(object, name)) {
      metric->name = prefix + name;
      out.push_back(std::move(*metric));
    }
  }
}

}  // namespace

std::vector<Metric> read_metrics(const Group& root) {
  std::vector<Metric> out;
  add_numbers(root.id(), "", out);
  for (const auto& member : root.members()) {
    if (member == "figures") continue;
    const hid_t object = H5Oopen(root.id(), member.c_str(), H5P_DEFAULT);
    if (object < 0) continue;
    if (H5Iget_type(object) == H5I_GROUP) add_numbers(object, member + "/", out);
    H5Oclose(object);
  }
  return out;
}

}  // namespace othrun::report
