#include "plugin/elf_check.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <vector>

namespace othrun {
namespace {

// The machine this othrun runs on: a plugin for another one cannot load.
#if defined(__x86_64__)
constexpr Elf64_Half kMachine = EM_X86_64;
constexpr const char* kMachineName = "x86-64";
#elif defined(__aarch64__)
constexpr Elf64_Half kMachine = EM_AARCH64;
constexpr const char* kMachineName = "AArch64";
#else
#error "othrun's plugin loader knows the ELF machine of x86-64 and AArch64 only"
#endif

// start + count * size <= file_size, without overflow.
bool table_fits(std::uint64_t start, std::uint64_t count, std::uint64_t size,
                std::uint64_t file_size) {
  if (start > file_size) return false;
  if (size != 0 && count > (file_size - start) / size) return false;
  return true;
}

std::string truncated(std::uint64_t file_size, const std::string& what, std::uint64_t end) {
  return "truncated or damaged ELF file: " + what + " ends at byte " + std::to_string(end) +
         " but the file has " + std::to_string(file_size) + " bytes";
}

}  // namespace

std::string elf_problem(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open the file";
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) return "cannot read its size: " + ec.message();

  Elf64_Ehdr header{};
  if (file_size < sizeof(header)) {
    // Say "invalid ELF header" like dlopen does for a file that is not ELF at all.
    if (file_size < SELFMAG)
      return "invalid ELF header (file of " + std::to_string(file_size) + " bytes)";
    return truncated(file_size, "the ELF header", sizeof(header));
  }
  in.read(reinterpret_cast<char*>(&header), sizeof(header));
  if (!in) return "cannot read the ELF header";
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) return "invalid ELF header";
  if (header.e_ident[EI_CLASS] != ELFCLASS64) return "not a 64-bit ELF file";
  if (header.e_ident[EI_DATA] != ELFDATA2LSB) return "not a little-endian ELF file";
  if (header.e_type != ET_DYN)
    return "not a shared library (ELF type " + std::to_string(header.e_type) + ")";
  if (header.e_machine != kMachine) {
    return std::string("built for another machine (ELF machine ") +
           std::to_string(header.e_machine) + ", this othrun runs on " + kMachineName + ")";
  }
  if (header.e_phnum == 0) return "no program headers";
  if (header.e_phentsize != sizeof(Elf64_Phdr)) return "bad program header entry size";
  if (!table_fits(header.e_phoff, header.e_phnum, sizeof(Elf64_Phdr), file_size)) {
    return truncated(file_size, "the program header table",
                     header.e_phoff + std::uint64_t{header.e_phnum} * sizeof(Elf64_Phdr));
  }
  // Section headers are not used by the loader, but a file cut inside them is damaged all the same.
  if (header.e_shnum != 0) {
    if (header.e_shentsize != sizeof(Elf64_Shdr)) return "bad section header entry size";
    if (!table_fits(header.e_shoff, header.e_shnum, sizeof(Elf64_Shdr), file_size)) {
      return truncated(file_size, "the section header table",
                       header.e_shoff + std::uint64_t{header.e_shnum} * sizeof(Elf64_Shdr));
    }
  }

  std::vector<Elf64_Phdr> segments(header.e_phnum);
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  in.read(reinterpret_cast<char*>(segments.data()),
          static_cast<std::streamsize>(segments.size() * sizeof(Elf64_Phdr)));
  if (!in) return "cannot read the program header table";
  int loadable = 0;
  for (const Elf64_Phdr& segment : segments) {
    if (segment.p_type != PT_LOAD && segment.p_type != PT_DYNAMIC) continue;
    if (segment.p_type == PT_LOAD) ++loadable;
    if (!table_fits(segment.p_offset, 1, segment.p_filesz, file_size)) {
      return truncated(file_size,
                       segment.p_type == PT_LOAD ? "a loadable segment" : "the dynamic section",
                       segment.p_offset + segment.p_filesz);
    }
  }
  if (loadable == 0) return "no loadable segment";
  return "";
}

}  // namespace othrun
