#include "runtime/system.hpp"

#include <dlfcn.h>
#include <link.h>

#include <H5public.h>
#include <fmt/format.h>

#include <filesystem>
#include <thread>

#include "fetch/http_client.hpp"
#include "runtime/revision.hpp"

namespace othrun {
namespace {

// The path of the first loaded shared object whose file name starts with `prefix`, or "".
std::string loaded_library(const std::string& prefix) {
  struct Search {
    const std::string* prefix;
    std::string found;
  } search{&prefix, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;
        const std::string name = std::filesystem::path(info->dlpi_name).filename().string();
        if (name.rfind(*s->prefix, 0) != 0) return 0;
        s->found = info->dlpi_name;
        return 1;
      },
      &search);
  return search.found;
}

std::string resolved(const std::string& path) {
  std::error_code ec;
  const auto real = std::filesystem::canonical(path, ec);
  return ec || real == path ? path : fmt::format("{} -> {}", path, real.string());
}

// A library handle closed with the object (dlclose only drops a reference: plugins keep theirs).
class Library {
 public:
  Library(const char* name, int flags) : handle_(::dlopen(name, flags)) {}
  ~Library() {
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  explicit operator bool() const { return handle_ != nullptr; }
  template <class F>
  F symbol(const char* name) const {
    return handle_ == nullptr ? nullptr : reinterpret_cast<F>(::dlsym(handle_, name));
  }

 private:
  void* handle_;
};

std::string blas_choice(const blas::Selection& s) {
  if (!s.user_setting.empty()) return "OPENBLAS_CORETYPE=" + s.user_setting + " (yours; kept)";
  if (!s.chosen.empty()) {
    return fmt::format("{} (OpenBLAS alone picks {}; {} passed the SGEMM self-check)", s.chosen,
                       s.default_kernel, s.chosen);
  }
  if (!s.log.empty()) return s.log.front();
  if (s.default_kernel.empty()) return "OpenBLAS's own (no switch considered)";
  return s.default_kernel + " (OpenBLAS's own; the best this CPU supports)";
}

}  // namespace

void print_system(const SystemInputs& inputs, std::ostream& out) {
  const std::string revision = framework_revision();
  const auto plus = revision.find('+');
  out << "othrun: " << revision.substr(0, plus)
      << (plus == std::string::npos ? "" : " (revision " + revision.substr(plus + 1) + ")") << "\n";
  std::error_code ec;
  out << "executable: " << std::filesystem::read_symlink("/proc/self/exe", ec).string() << "\n";

  const blas::CpuFeatures cpu = blas::cpu_features();
  out << "cpu: " << (cpu.model.empty() ? "unknown" : cpu.model) << ", "
      << std::thread::hardware_concurrency() << " hardware threads\n";
  out << "cpu features: " << (cpu.names().empty() ? "(none of the listed)" : cpu.names()) << "\n";

  // OpenBLAS: the plugins loaded it already (or it is loaded now, under the same environment).
  const Library openblas("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  using Text = char* (*)();
  using Count = int (*)();
  const auto corename = openblas.symbol<Text>("openblas_get_corename");
  const auto config = openblas.symbol<Text>("openblas_get_config");
  const auto blas_threads = openblas.symbol<Count>("openblas_get_num_threads");
  if (openblas && corename != nullptr) {
    out << "blas library: " << resolved(loaded_library("libopenblas.so")) << "\n";
    out << "blas kernel: " << corename() << "\n";
    out << "blas config: " << (config != nullptr ? config() : "?") << "\n";
  } else {
    out << "blas library: OpenBLAS not found (libopenblas.so.0)\n";
    out << "blas kernel: unknown\n";
  }
  out << "blas kernel choice: " << blas_choice(inputs.blas) << "\n";
  const std::string libblas = loaded_library("libblas.so");
  out << "cblas for analysis plugins: " << (libblas.empty() ? "not loaded" : resolved(libblas))
      << "\n";

  // LibTorch: only through libothrun_torch's C functions (libothrun_core never links it).
  const Library torch("libothrun_torch.so", RTLD_LAZY | RTLD_NOLOAD);
  const auto torch_version = torch.symbol<const char* (*)()>("othrun_torch_version");
  const auto intra = torch.symbol<Count>("othrun_torch_intra_op_threads");
  const auto inter = torch.symbol<Count>("othrun_torch_inter_op_threads");
  if (torch_version != nullptr) {
    out << "libtorch: " << torch_version() << " (" << resolved(loaded_library("libtorch_cpu.so"))
        << ")\n";
  } else {
    out << "libtorch: not loaded (no LibTorch plugin on the search path)\n";
  }

  const Library gomp("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
  const auto omp_threads = gomp.symbol<Count>("omp_get_max_threads");
  std::string pools = fmt::format("othrun workers {}", inputs.workers);
  pools += intra != nullptr ? fmt::format(", ATen intra-op {}", intra()) : ", ATen not loaded";
  if (inter != nullptr) pools += fmt::format(", ATen inter-op {}", inter());
  pools += blas_threads != nullptr ? fmt::format(", OpenBLAS {}", blas_threads())
                                   : ", OpenBLAS not loaded";
  pools +=
      omp_threads != nullptr ? fmt::format(", OpenMP {}", omp_threads()) : ", OpenMP not loaded";
  out << "threads: " << pools << "\n";
  std::string policy;
  for (const threads::Setting& s : inputs.threads) {
    policy += fmt::format("{}{}={}{}", policy.empty() ? "" : " ", s.name, s.value,
                          s.by_user ? " (yours)" : "");
  }
  out << "thread policy: " << (policy.empty() ? "none applied" : policy) << "\n";

  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  out << fmt::format("hdf5: {}.{}.{}\n", major, minor, release);
  out << "fetch: " << fetch::curl_version_text() << "\n";  // hf:// and https:// (docs/fetch.md)

  std::string available, unavailable;
  for (const ListedPlugin& listed : inputs.plugins) {
    if (!listed.plugin) {
      unavailable += fmt::format("{}{} ({})", unavailable.empty() ? "" : ", ",
                                 listed.path.stem().string(), listed.error);
      continue;
    }
    const Availability a = listed.plugin->info->probe();
    if (a.available) {
      if (!available.empty()) available += ' ';
      available += listed.plugin->info->name;
    } else {
      unavailable += fmt::format("{}{} ({})", unavailable.empty() ? "" : ", ",
                                 listed.plugin->info->name, a.reason);
    }
  }
  std::string dirs;
  for (const auto& dir : inputs.search_path) {
    if (!dirs.empty()) dirs += ':';
    dirs += dir.string();
  }
  out << "plugin path: " << (dirs.empty() ? "(empty)" : dirs) << "\n";
  out << "plugins: " << (available.empty() ? "none" : available) << "\n";
  if (!unavailable.empty()) out << "plugins unavailable: " << unavailable << "\n";
}

}  // namespace othrun
