#include "store/h5_util.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mutex>

#include <othrun/error.hpp>

namespace othrun {
namespace {

// At exit HDF5 closes the files still open (H5_term_library). In HDF5 1.10 a file whose flush
// failed (disk full) can never be closed, and that exit-time close crashes (SIGSEGV). othrun closes
// every file it opens itself, so the exit-time cleanup is turned off before HDF5 is first used.
const bool kNoExitCleanup = [] {
  H5dont_atexit();
  return true;
}();

}  // namespace

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

std::int64_t H5Id::release() {
  const std::int64_t id = id_;
  id_ = -1;
  return id;
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

// HDF5's message of a failed system call ("file write failed: time = ..., filename = ..., errno =
// 28, error message = 'No space left on device', buf = ...") shortened to what the user needs:
// "file write failed: No space left on device".
std::string shorten_system_error(const std::string& message) {
  const std::string marker = "error message = '";
  const auto start = message.find(marker);
  const auto colon = message.find(':');
  if (start == std::string::npos || colon == std::string::npos || colon > start) return message;
  const auto text = start + marker.size();
  const auto end = message.find('\'', text);
  if (end == std::string::npos) return message;
  return message.substr(0, colon) + ": " + message.substr(text, end - text);
}
}  // namespace

std::string take_error_message() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  return message.empty() ? "HDF5 error" : shorten_system_error(message);
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw Error(what + ": " + take_error_message());
}

H5Id check_id(hid_t id, const std::string& what) {
  if (id < 0) throw Error(what + ": " + take_error_message());
  return H5Id(id);
}

void close_file(H5Id& file, const std::filesystem::path& path) {
  check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "writing " + path.string());
  check(H5Fclose(file.get()), "closing " + path.string());
  file.release();
}

// Closing a file makes HDF5 write out its caches; on a full disk that fails half-way and the file
// stays open (forever, once a flush has failed: HDF5 1.10). So before closing, the file's
// descriptor is pointed at an in-memory file: the closing writes land there and cannot fail for
// lack of space. The real file is deleted and truncated through a duplicate of its descriptor,
// which frees its blocks at once. Should HDF5 still fail to close it, that duplicate stays open, so
// that the inode is not reused by a new file that HDF5 would mistake for this still-open one.
void discard_file(H5Id& file, const std::filesystem::path& path) {
  int original = -1;
  if (file.valid()) {
    const H5Id access(H5Fget_access_plist(file.get()));
    void* handle = nullptr;
    if (access.valid() && H5Pget_driver(access.get()) == H5FD_SEC2 &&
        H5Fget_vfd_handle(file.get(), access.get(), &handle) >= 0 && handle) {
      const int fd = *static_cast<int*>(handle);
      const int memory = memfd_create("othrun-discarded", MFD_CLOEXEC);
      if (memory >= 0) {
        original = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (original >= 0 && dup2(memory, fd) < 0) {
          close(original);
          original = -1;
        }
        close(memory);
      }
    }
  }
  const bool closed = !file.valid() || H5Fclose(file.get()) >= 0;
  H5Eclear2(H5E_DEFAULT);
  file.release();
  std::error_code ignored;
  if (!path.empty()) std::filesystem::remove(path, ignored);
  if (original >= 0) {
    if (ftruncate(original, 0) != 0) {
      // Nothing more to free: the file is deleted either way.
    }
    if (closed) close(original);
  }
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
