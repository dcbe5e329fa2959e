#include "plugin/elf_check.hpp"

#include <othrun/error.hpp>

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
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

namespace {

template <class T>
T read_at(const std::vector<char>& file, std::uint64_t offset, const std::filesystem::path& path) {
  T value{};
  if (!table_fits(offset, 1, sizeof(T), file.size())) {
    throw Error(path.string() + ": damaged ELF file: read past its end at byte " +
                std::to_string(offset));
  }
  std::memcpy(&value, file.data() + offset, sizeof(T));
  return value;
}

// The file offset of virtual address `address` (inside a PT_LOAD segment's file part).
std::uint64_t file_offset(const std::vector<Elf64_Phdr>& segments, std::uint64_t address,
                          const std::filesystem::path& path) {
  for (const Elf64_Phdr& s : segments) {
    if (s.p_type == PT_LOAD && address >= s.p_vaddr && address - s.p_vaddr < s.p_filesz) {
      return s.p_offset + (address - s.p_vaddr);
    }
  }
  throw Error(path.string() + ": damaged ELF file: address " + std::to_string(address) +
              " is in no loadable segment");
}

}  // namespace

ElfDynamic elf_dynamic(const std::filesystem::path& path) {
  if (const std::string problem = elf_problem(path); !problem.empty()) {
    throw Error(path.string() + ": " + problem);
  }
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> file{std::istreambuf_iterator<char>(in),
                               std::istreambuf_iterator<char>()};
  const auto header = read_at<Elf64_Ehdr>(file, 0, path);
  std::vector<Elf64_Phdr> segments;
  for (std::uint64_t i = 0; i < header.e_phnum; ++i) {
    segments.push_back(read_at<Elf64_Phdr>(file, header.e_phoff + i * sizeof(Elf64_Phdr), path));
  }
  std::vector<Elf64_Dyn> entries;
  for (const Elf64_Phdr& s : segments) {
    if (s.p_type != PT_DYNAMIC) continue;
    for (std::uint64_t at = s.p_offset; at + sizeof(Elf64_Dyn) <= s.p_offset + s.p_filesz;
         at += sizeof(Elf64_Dyn)) {
      const auto entry = read_at<Elf64_Dyn>(file, at, path);
      if (entry.d_tag == DT_NULL) break;
      entries.push_back(entry);
    }
  }
  std::uint64_t strtab = 0;
  bool has_strtab = false;
  for (const Elf64_Dyn& e : entries) {
    if (e.d_tag == DT_STRTAB) strtab = file_offset(segments, e.d_un.d_ptr, path), has_strtab = true;
  }
  if (!has_strtab && !entries.empty()) {
    throw Error(path.string() + ": damaged ELF file: a dynamic section without DT_STRTAB");
  }
  const auto string_at = [&](std::uint64_t index) {
    std::string text;
    for (std::uint64_t at = strtab + index;; ++at) {
      const char c = read_at<char>(file, at, path);
      if (c == '\0') return text;
      text += c;
    }
  };
  ElfDynamic out;
  std::string rpath;
  for (const Elf64_Dyn& e : entries) {
    if (e.d_tag == DT_NEEDED) out.needed.push_back(string_at(e.d_un.d_val));
    if (e.d_tag == DT_RUNPATH) out.runpath = string_at(e.d_un.d_val);
    if (e.d_tag == DT_RPATH) rpath = string_at(e.d_un.d_val);
  }
  if (out.runpath.empty()) out.runpath = rpath;
  return out;
}

}  // namespace othrun
