// HDF5 helpers shared by the store sources: error checks and type mapping.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>

#include <othrun/dtype.hpp>
#include <othrun/store.hpp>

namespace othrun::h5 {

static_assert(sizeof(hid_t) == sizeof(std::int64_t), "othrun stores hid_t in std::int64_t");

// Turns off HDF5's own printing of error stacks; othrun reports errors itself. Idempotent.
void silence_errors();

// HDF5's innermost message of the error just reported (and clears it).
std::string take_error_message();

// Throws othrun::Error("<what>: <HDF5's innermost message>") when `status` < 0.
void check(herr_t status, const std::string& what);
// Same for a returned identifier; returns it wrapped.
H5Id check_id(hid_t id, const std::string& what);

// Closes a file that was being written, throwing (with HDF5's message) when its data could not be
// written out. On failure `file` is still open: pass it to discard_file.
void close_file(H5Id& file, const std::filesystem::path& path);

// Closes a file being written whose content is unwanted, and deletes it at `path`, even when its
// disk is full or its writes fail. See h5_util.cpp for how.
void discard_file(H5Id& file, const std::filesystem::path& path);

// Type in memory for `dtype` (native byte order).
hid_t memory_type(DType dtype);
// A new file type for `dtype` (little-endian; float16 as a 16-bit IEEE type h5py reads).
H5Id file_type(DType dtype);
// The DType of a dataset or attribute's file type; throws for types othrun does not read.
DType dtype_of_type(hid_t type, const std::string& where);

}  // namespace othrun::h5
