// HDF5 helpers shared by the store sources: error checks and type mapping.
#pragma once

#include <hdf5.h>

#include <string>

#include <othrun/dtype.hpp>
#include <othrun/store.hpp>

namespace othrun::h5 {

static_assert(sizeof(hid_t) == sizeof(std::int64_t), "othrun stores hid_t in std::int64_t");

// Turns off HDF5's own printing of error stacks; othrun reports errors itself. Idempotent.
void silence_errors();

// Throws othrun::Error("<what>: <HDF5's innermost message>") when `status` < 0.
void check(herr_t status, const std::string& what);
// Same for a returned identifier; returns it wrapped.
H5Id check_id(hid_t id, const std::string& what);

// Type in memory for `dtype` (native byte order).
hid_t memory_type(DType dtype);
// A new file type for `dtype` (little-endian; float16 as a 16-bit IEEE type h5py reads).
H5Id file_type(DType dtype);
// The DType of a dataset or attribute's file type; throws for types othrun does not read.
DType dtype_of_type(hid_t type, const std::string& where);

}  // namespace othrun::h5
