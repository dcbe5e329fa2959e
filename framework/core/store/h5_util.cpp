#include "store/h5_util.hpp"

#include <mutex>

#include <othrun/error.hpp>

namespace othrun {

H5Id& H5Id::operator=(H5Id&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void H5Id::reset() {
  if (id_ < 0) return;
  // H5Oclose does not take files, types or dataspaces: close each by its own kind.
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = -1;
}

namespace h5 {

void silence_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
  // The error-printing setting is per thread in a thread-safe HDF5: set it for this one too.
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

namespace {
herr_t keep_innermost(unsigned n, const H5E_error2_t* entry, void* out) {
  if (n == 0) *static_cast<std::string*>(out) = entry->desc ? entry->desc : "";
  return 0;
}

std::string innermost_message() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  return message.empty() ? "HDF5 error" : message;
}
}  // namespace

void check(herr_t status, const std::string& what) {
  if (status < 0) throw Error(what + ": " + innermost_message());
}

H5Id check_id(hid_t id, const std::string& what) {
  if (id < 0) throw Error(what + ": " + innermost_message());
  return H5Id(id);
}

hid_t memory_type(DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::UInt8:
      return H5T_NATIVE_UINT8;
    case DType::Int8:
      return H5T_NATIVE_INT8;
    case DType::Int16:
      return H5T_NATIVE_INT16;
    case DType::Int32:
      return H5T_NATIVE_INT32;
    case DType::Int64:
      return H5T_NATIVE_INT64;
    case DType::UInt64:
      return H5T_NATIVE_UINT64;
    case DType::Float32:
      return H5T_NATIVE_FLOAT;
    case DType::Float64:
      return H5T_NATIVE_DOUBLE;
    case DType::Float16:
    case DType::BFloat16:
      break;
  }
  throw Error(std::string("no in-memory HDF5 type for ") + to_string(dtype));
}

H5Id file_type(DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::UInt8:
      return H5Id(H5Tcopy(H5T_STD_U8LE));
    case DType::Int8:
      return H5Id(H5Tcopy(H5T_STD_I8LE));
    case DType::Int16:
      return H5Id(H5Tcopy(H5T_STD_I16LE));
    case DType::Int32:
      return H5Id(H5Tcopy(H5T_STD_I32LE));
    case DType::Int64:
      return H5Id(H5Tcopy(H5T_STD_I64LE));
    case DType::UInt64:
      return H5Id(H5Tcopy(H5T_STD_U64LE));
    case DType::Float32:
      return H5Id(H5Tcopy(H5T_IEEE_F32LE));
    case DType::Float64:
      return H5Id(H5Tcopy(H5T_IEEE_F64LE));
    case DType::Float16: {
      // IEEE binary16, the layout h5py maps to numpy float16.
      H5Id type(H5Tcopy(H5T_IEEE_F32LE));
      check(H5Tset_fields(type.get(), 15, 10, 5, 0, 10), "float16 type");
      check(H5Tset_size(type.get(), 2), "float16 type");
      check(H5Tset_ebias(type.get(), 15), "float16 type");
      return type;
    }
    case DType::BFloat16:
      break;
  }
  throw Error(std::string("the store cannot hold ") + to_string(dtype) + " data");
}

DType dtype_of_type(hid_t type, const std::string& where) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (size == 1) return is_signed ? DType::Int8 : DType::UInt8;
      if (size == 2 && is_signed) return DType::Int16;
      if (size == 4 && is_signed) return DType::Int32;
      if (size == 8) return is_signed ? DType::Int64 : DType::UInt64;
      break;
    }
    case H5T_FLOAT:
      if (size == 2) return DType::Float16;
      if (size == 4) return DType::Float32;
      if (size == 8) return DType::Float64;
      break;
    default:
      break;
  }
  throw Error(where + ": unsupported HDF5 element type (class " +
              std::to_string(static_cast<int>(H5Tget_class(type))) + ", " + std::to_string(size) +
              " bytes)");
}

}  // namespace h5
}  // namespace othrun
