// The datasets of a product already in the store (from an earlier run, not planned in this
// experiment), read from its file so `--check` can resolve references to it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <othrun/contract.hpp>
#include <othrun/store.hpp>

namespace othrun {

// Every dataset of complete product `label` of the store indexed by `index_path`, with its dtype,
// and the attributes inference writes on cached activations (hook, axes, positions_start/stop).
// nullopt when there is no such complete product. Creates nothing.
std::optional<DatasetDecls> stored_datasets(const std::filesystem::path& index_path,
                                            const std::string& label);

// Checks that `product` (just written by its step) holds every dataset of `decls` with the declared
// dtype; throws othrun::Error listing each one that is missing or of another type.
void check_written(const Product& product, const DatasetDecls& decls);

}  // namespace othrun
