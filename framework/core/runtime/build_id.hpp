// The build id of a plugin library, recorded in provenance so that a rebuilt plugin reruns its
// steps even when its name, version and config are unchanged.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace othrun {

// The GNU build id note of an ELF file (the linker's hash of the output, `readelf -n` shows it),
// as hex; nullopt when the file is not ELF64 or has no such note.
std::optional<std::string> elf_build_id(const std::filesystem::path& path);

// "gnu-build-id:HEX" when the library has one, else "sha256:HEX" of the whole file.
std::string plugin_build_id(const std::filesystem::path& path);

}  // namespace othrun
