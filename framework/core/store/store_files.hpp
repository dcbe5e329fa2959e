// What the store's sources share: the names of its files and how a product file is checked.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <othrun/store.hpp>

namespace othrun {

inline constexpr const char* kPartialSuffix = ".h5.partial";     // a product being written
inline constexpr const char* kReplacedSuffix = ".replaced";      // an old product during a commit
inline constexpr const char* kTemporarySuffix = ".tmp";          // the index being written
inline constexpr const char* kCompleteAttr = "othrun.complete";  // written last into a product
inline constexpr const char* kIndexMarkAttr = "othrun.store_format";  // root of every index
// A product written by N ranks lists its part files (relative to the store folder) in this root
// attribute; they live in `<label>.ranks/` (rank_parts.cpp).
inline constexpr const char* kRankFilesAttr = "othrun.rank_files";
inline constexpr const char* kRankDirSuffix = ".ranks";

// File access properties: closing a file closes every object still open in it, so a product is
// really closed (and flushed) before it is renamed into place.
H5Id strong_close_access();

// Whether `path` is the complete product `label`: it opens as HDF5, every object header in it
// reads, and its root has othrun.label == label and othrun.complete == 1. When it is and `out` is
// given, the product is left open there (read-only).
ProductFileStatus check_product(const std::filesystem::path& path, const std::string& label,
                            std::optional<Product>* out);

// "a, b, c", or "none".
std::string join(const std::vector<std::string>& names);

}  // namespace othrun
