// A structural check of a plugin file before dlopen. The dynamic loader trusts the ELF headers and
// maps every loadable segment: a truncated library makes it touch pages past the end of the file
// and the process dies with SIGBUS instead of getting an error. This check reads only the headers.
#pragma once

#include <filesystem>
#include <string>

namespace othrun {

// Why `path` is not a complete ELF64 shared library for this machine, or "" when it looks
// loadable: header, program and section header tables inside the file, and every PT_LOAD
// segment's file range covered by the file.
std::string elf_problem(const std::filesystem::path& path);

}  // namespace othrun
