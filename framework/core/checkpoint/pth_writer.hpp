// save_pth with the zip64 switch exposed for tests.
#pragma once

#include <filesystem>

#include <othrun/pth.hpp>

namespace othrun::checkpoint {

void write_pth(const std::filesystem::path& path, const PyValue& root, bool force_zip64);

}  // namespace othrun::checkpoint
