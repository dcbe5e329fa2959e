#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include "store/h5_util.hpp"

namespace othrun {
namespace {

// A variable-length UTF-8 string type: h5py reads such attributes as Python str.
H5Id string_type() {
  H5Id type(H5Tcopy(H5T_C_S1));
  h5::check(H5Tset_size(type.get(), H5T_VARIABLE), "string type");
  h5::check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "string type");
  return type;
}

// Writes one attribute, replacing any of the same name.
void write_attr(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                hsize_t count, bool scalar, const void* data) {
  if (H5Aexists(object, name.c_str()) > 0) h5::check(H5Adelete(object, name.c_str()), name);
  H5Id space = scalar ? H5Id(H5Screate(H5S_SCALAR)) : H5Id(H5Screate_simple(1, &count, nullptr));
  static const std::int64_t kEmpty = 0;
  if (count == 0) data = &kEmpty;  // HDF5 rejects a null buffer even for zero elements
  H5Id attr = h5::check_id(
      H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      "creating attribute '" + name + "'");
  h5::check(H5Awrite(attr.get(), memory_type, data), "writing attribute '" + name + "'");
}

H5Id open_attr(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) throw Error("no attribute '" + name + "'");
  return h5::check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), "opening attribute " + name);
}

hssize_t attr_count(hid_t attr) {
  H5Id space(H5Aget_space(attr));
  return H5Sget_simple_extent_npoints(space.get());
}

template <class T>
std::vector<T> read_numbers(hid_t object, const std::string& name, hid_t memory_type) {
  H5Id attr = open_attr(object, name);
  std::vector<T> values(static_cast<size_t>(attr_count(attr.get())));
  if (values.empty()) return values;  // HDF5 rejects a null buffer even for zero elements
  h5::check(H5Aread(attr.get(), memory_type, values.data()), "reading attribute '" + name + "'");
  return values;
}

}  // namespace

Attributes::Attributes(std::int64_t object_id) : object_(object_id) {
  if (object_ >= 0) H5Iinc_ref(object_);
}

Attributes::Attributes(const Attributes& other) : Attributes(other.object_) {}

Attributes& Attributes::operator=(const Attributes& other) {
  if (this != &other) {
    if (other.object_ >= 0) H5Iinc_ref(other.object_);
    if (object_ >= 0) H5Idec_ref(object_);
    object_ = other.object_;
  }
  return *this;
}

Attributes::~Attributes() {
  if (object_ >= 0 && H5Iis_valid(object_) > 0) H5Idec_ref(object_);
}

bool Attributes::has(const std::string& name) const { return H5Aexists(object_, name.c_str()) > 0; }

void Attributes::set(const std::string& name, const std::string& value) {
  H5Id type = string_type();
  const char* text = value.c_str();
  write_attr(object_, name, type.get(), type.get(), 1, true, &text);
}

void Attributes::set(const std::string& name, std::int64_t value) {
  write_attr(object_, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, true, &value);
}

void Attributes::set(const std::string& name, double value) {
  write_attr(object_, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, true, &value);
}

void Attributes::set(const std::string& name, const std::vector<std::int64_t>& values) {
  write_attr(object_, name, H5T_STD_I64LE, H5T_NATIVE_INT64, values.size(), false, values.data());
}

void Attributes::set(const std::string& name, const std::vector<double>& values) {
  write_attr(object_, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.size(), false, values.data());
}

void Attributes::set(const std::string& name, const std::vector<std::string>& values) {
  H5Id type = string_type();
  std::vector<const char*> texts;
  for (const auto& value : values) texts.push_back(value.c_str());
  write_attr(object_, name, type.get(), type.get(), values.size(), false, texts.data());
}

std::string Attributes::get_string(const std::string& name) const {
  auto values = get_strings(name);
  if (values.size() != 1) throw Error("attribute '" + name + "' is not a single string");
  return values[0];
}

std::vector<std::string> Attributes::get_strings(const std::string& name) const {
  H5Id attr = open_attr(object_, name);
  H5Id type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) throw Error("attribute '" + name + "' is not text");
  const auto count = static_cast<size_t>(attr_count(attr.get()));
  std::vector<std::string> values;
  if (count == 0) return values;
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Id memory = string_type();
    std::vector<char*> texts(count, nullptr);
    h5::check(H5Aread(attr.get(), memory.get(), texts.data()), "reading attribute '" + name + "'");
    for (char* text : texts) values.emplace_back(text ? text : "");
    H5Id space(H5Aget_space(attr.get()));
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, texts.data());
  } else {
    const size_t width = H5Tget_size(type.get());
    std::vector<char> buffer(count * width);
    h5::check(H5Aread(attr.get(), type.get(), buffer.data()), "reading attribute '" + name + "'");
    for (size_t i = 0; i < count; ++i) {
      std::string text(buffer.data() + i * width, width);
      values.push_back(text.substr(0, text.find('\0')));
    }
  }
  return values;
}

std::int64_t Attributes::get_int(const std::string& name) const {
  auto values = get_ints(name);
  if (values.size() != 1) throw Error("attribute '" + name + "' is not a single integer");
  return values[0];
}

double Attributes::get_float(const std::string& name) const {
  auto values = get_floats(name);
  if (values.size() != 1) throw Error("attribute '" + name + "' is not a single number");
  return values[0];
}

std::vector<std::int64_t> Attributes::get_ints(const std::string& name) const {
  return read_numbers<std::int64_t>(object_, name, H5T_NATIVE_INT64);
}

std::vector<double> Attributes::get_floats(const std::string& name) const {
  return read_numbers<double>(object_, name, H5T_NATIVE_DOUBLE);
}

std::vector<std::string> Attributes::names() const {
  std::vector<std::string> names;
  H5Aiterate2(
      object_, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

}  // namespace othrun
