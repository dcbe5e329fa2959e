// A structural check of a plugin file before dlopen. The dynamic loader trusts the ELF headers and
// maps every loadable segment: a truncated library makes it touch pages past the end of the file
// and the process dies with SIGBUS instead of getting an error. This check reads only the headers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace othrun {

// Why `path` is not a complete ELF64 shared library for this machine, or "" when it looks
// loadable: header, program and section header tables inside the file, and every PT_LOAD
// segment's file range covered by the file.
std::string elf_problem(const std::filesystem::path& path);

// The dynamic section's libraries and search path, as `readelf -d` shows them.
struct ElfDynamic {
  std::vector<std::string> needed;  // DT_NEEDED, in order
  std::string runpath;              // DT_RUNPATH, else DT_RPATH, else ""
};

// Reads the dynamic section of a shared library that elf_problem() accepts. Throws Error naming
// the file when it is not one or its dynamic section is damaged.
ElfDynamic elf_dynamic(const std::filesystem::path& path);

}  // namespace othrun
