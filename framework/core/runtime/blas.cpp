#include "runtime/blas.hpp"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <othrun/log.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace othrun::blas {
namespace {

// How long a child may take to load OpenBLAS and run the self-check (a few ms on an idle machine)
// before it is taken as hung.
constexpr int kChildTimeoutMs = 20000;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) break;
      const auto begin = line.find_first_not_of(" \t", colon + 1);
      return begin == std::string::npos ? "" : line.substr(begin);
    }
  }
  return "";
}

// Deterministic inputs in [-1, 1): the check must not depend on a seed.
std::vector<float> fill(std::size_t n, std::uint32_t state) {
  std::vector<float> v(n);
  for (float& x : v) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return v;
}

// One case of sgemm_self_check: returns the worst |error| / bound.
double check_case(Sgemm sgemm, int m, int n, int k, bool b_transposed) {
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  constexpr float alpha = 1.5f, beta = 0.5f;
  constexpr double u = 1.0 / (1 << 24);  // float32 unit roundoff
  const std::vector<float> a = fill(static_cast<std::size_t>(m) * k, 1);
  const std::vector<float> b = fill(static_cast<std::size_t>(k) * n, 2);
  const std::vector<float> c0 = fill(static_cast<std::size_t>(m) * n, 3);
  std::vector<float> c = c0;
  const int ldb = b_transposed ? k : n;
  sgemm(kRowMajor, kNoTrans, b_transposed ? kTrans : kNoTrans, m, n, k, alpha, a.data(), k,
        b.data(), ldb, beta, c.data(), n);
  double worst = 0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double exact = 0, magnitude = 0;
      for (int p = 0; p < k; ++p) {
        const double bv = b_transposed ? b[static_cast<std::size_t>(j) * k + p]
                                       : b[static_cast<std::size_t>(p) * n + j];
        const double term = static_cast<double>(a[static_cast<std::size_t>(i) * k + p]) * bv;
        exact += term;
        magnitude += std::abs(term);
      }
      const double c_in = c0[static_cast<std::size_t>(i) * n + j];
      exact = alpha * exact + beta * c_in;
      const double bound = 2.0 * (k + 2) * u * (alpha * magnitude + beta * std::abs(c_in));
      const double got = c[static_cast<std::size_t>(i) * n + j];
      const double ratio = std::isfinite(got) ? std::abs(got - exact) / bound : HUGE_VAL;
      worst = std::max(worst, ratio);
    }
  }
  return worst;
}

// In the child: load OpenBLAS as the plugins will, report on `out`.
[[noreturn]] void child_main(int out, const std::string& coretype, bool self_check) {
  if (coretype.empty()) {
    ::unsetenv("OPENBLAS_CORETYPE");
  } else {
    ::setenv("OPENBLAS_CORETYPE", coretype.c_str(), 1);
  }
  std::ostringstream report;
  void* library = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    report << "0\t\t0\t0\t" << ::dlerror();
  } else {
    using Corename = char* (*)();
    const auto corename = reinterpret_cast<Corename>(::dlsym(library, "openblas_get_corename"));
    const auto sgemm = reinterpret_cast<Sgemm>(::dlsym(library, "cblas_sgemm"));
    report << "1\t" << (corename != nullptr ? corename() : "") << "\t";
    if (self_check && sgemm != nullptr) {
      report << "1\t" << sgemm_self_check(sgemm) << "\t";
    } else {
      report << "0\t0\t" << (sgemm == nullptr ? "no cblas_sgemm" : "");
    }
  }
  const std::string text = report.str();
  [[maybe_unused]] const auto written = ::write(out, text.data(), text.size());
  ::_exit(0);
}

Probe parse_report(const std::string& text) {
  Probe probe;
  std::array<std::string, 5> fields;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto tab = i + 1 < fields.size() ? text.find('\t', begin) : std::string::npos;
    fields[i] = text.substr(begin, tab == std::string::npos ? std::string::npos : tab - begin);
    if (tab == std::string::npos) break;
    begin = tab + 1;
  }
  probe.loaded = fields[0] == "1";
  probe.corename = fields[1];
  probe.checked = fields[2] == "1";
  probe.worst = probe.checked ? std::strtod(fields[3].c_str(), nullptr) : 0;
  probe.correct = probe.checked && probe.worst < 1.0;
  probe.failure = fields[4];
  if (probe.checked && !probe.correct) {
    probe.failure = fmt::format("SGEMM self-check error {:.3g}x its bound", probe.worst);
  }
  return probe;
}

// A file descriptor closed with the object.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string CpuFeatures::names() const {
  std::string out;
  auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(sse3, "sse3");
  add(ssse3, "ssse3");
  add(sse4_2, "sse4_2");
  add(avx, "avx");
  add(avx2, "avx2");
  add(fma, "fma");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512dq, "avx512dq");
  add(avx512vl, "avx512vl");
  add(avx512cd, "avx512cd");
  add(avx512bf16, "avx512bf16");
  return out;
}

CpuFeatures cpu_features() {
  CpuFeatures cpu;
  cpu.model = cpu_model();
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  cpu.sse3 = __builtin_cpu_supports("sse3");
  cpu.ssse3 = __builtin_cpu_supports("ssse3");
  cpu.sse4_2 = __builtin_cpu_supports("sse4.2");
  cpu.avx = __builtin_cpu_supports("avx");
  cpu.avx2 = __builtin_cpu_supports("avx2");
  cpu.fma = __builtin_cpu_supports("fma");
  cpu.avx512f = __builtin_cpu_supports("avx512f");
  cpu.avx512bw = __builtin_cpu_supports("avx512bw");
  cpu.avx512dq = __builtin_cpu_supports("avx512dq");
  cpu.avx512vl = __builtin_cpu_supports("avx512vl");
  cpu.avx512cd = __builtin_cpu_supports("avx512cd");
  cpu.avx512bf16 = __builtin_cpu_supports("avx512bf16");
#endif
  return cpu;
}

int kernel_level(const std::string& corename) {
  static const std::array<std::pair<const char*, int>, 24> levels{{
      {"Katmai", 1},       {"Coppermine", 1}, {"Northwood", 1},  {"Prescott", 1},
      {"Banias", 1},       {"Atom", 1},       {"Core2", 1},      {"Penryn", 1},
      {"Dunnington", 1},   {"Nehalem", 1},    {"Athlon", 1},     {"Opteron", 1},
      {"Opteron_SSE3", 1}, {"Barcelona", 1},  {"Nano", 1},       {"Bobcat", 1},
      {"Sandybridge", 2},  {"Bulldozer", 2},  {"Piledriver", 2}, {"Steamroller", 2},
      {"Excavator", 2},    {"Haswell", 3},    {"Zen", 3},        {"SkylakeX", 4},
  }};
  for (const auto& [name, level] : levels) {
    if (strcasecmp(name, corename.c_str()) == 0) return level;
  }
  if (strcasecmp(corename.c_str(), "Cooperlake") == 0 ||
      strcasecmp(corename.c_str(), "SapphireRapids") == 0) {
    return 4;
  }
  return 0;
}

std::vector<std::string> candidate_kernels(const CpuFeatures& cpu) {
  std::vector<std::string> out;
  if (cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl && cpu.avx512cd) {
    out.push_back("SkylakeX");
  }
  if (cpu.avx2 && cpu.fma) out.push_back("Haswell");
  return out;
}

double sgemm_self_check(Sgemm sgemm) {
  // Odd sizes, large enough (m n k > 262,144) for OpenBLAS to split the work among its threads.
  return std::max(check_case(sgemm, 67, 131, 259, false), check_case(sgemm, 67, 131, 259, true));
}

Probe probe_in_child(const std::string& coretype, bool self_check) {
  Probe failed;
  int fds[2];
  if (::pipe(fds) != 0) {
    failed.failure = std::string("pipe: ") + std::strerror(errno);
    return failed;
  }
  Fd read_end{fds[0]}, write_end{fds[1]};
  std::fflush(nullptr);  // the child must not flush the parent's buffered output again
  const pid_t pid = ::fork();
  if (pid < 0) {
    failed.failure = std::string("fork: ") + std::strerror(errno);
    return failed;
  }
  if (pid == 0) child_main(write_end.fd, coretype, self_check);
  ::close(write_end.fd);
  write_end.fd = -1;

  std::string text;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kChildTimeoutMs);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{read_end.fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[512];
    const ssize_t got = ::read(read_end.fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the child closed its end: done
    text.append(buffer, static_cast<std::size_t>(got));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    failed.failure = fmt::format("no answer within {} s", kChildTimeoutMs / 1000);
    return failed;
  }
  if (WIFSIGNALED(status)) {
    failed.failure = fmt::format("crashed ({})", strsignal(WTERMSIG(status)));
    return failed;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
    failed.failure = "exited without a report";
    return failed;
  }
  return parse_report(text);
}

Selection select_kernel(const CpuFeatures& cpu, const std::optional<std::string>& user_coretype,
                        const std::function<Probe(const std::string&, bool)>& probe) {
  Selection selection;
  if (user_coretype) {
    selection.user_setting = *user_coretype;
    return selection;  // the user's choice wins, untouched and unchecked
  }
  const std::vector<std::string> candidates = candidate_kernels(cpu);
  if (candidates.empty()) return selection;  // nothing better than SSE to offer
  const Probe own = probe("", false);
  if (!own.loaded) return selection;  // no OpenBLAS: another BLAS or none; nothing to choose
  selection.default_kernel = own.corename;
  const int own_level = kernel_level(own.corename);
  std::vector<std::string> failures;
  for (const std::string& kernel : candidates) {
    if (own_level >= kernel_level(kernel)) break;  // OpenBLAS's choice is as good
    const Probe tried = probe(kernel, true);
    if (tried.loaded && tried.correct && kernel_level(tried.corename) == kernel_level(kernel)) {
      selection.chosen = kernel;
      selection.log.push_back(fmt::format(
          "BLAS: OpenBLAS picks its {} kernel on this CPU ({}); using {} (SGEMM self-check "
          "passed; set OPENBLAS_CORETYPE to choose yourself)",
          own.corename, cpu.model.empty() ? cpu.names() : cpu.model, kernel));
      return selection;
    }
    failures.push_back(
        kernel + ": " +
        (tried.failure.empty() ? "OpenBLAS ran " + tried.corename + " instead" : tried.failure));
  }
  if (!failures.empty()) {
    std::string why;
    for (const auto& f : failures) why += (why.empty() ? "" : "; ") + f;
    selection.log.push_back(fmt::format(
        "BLAS: keeping OpenBLAS's {} kernel: the better kernels failed their check ({})",
        own.corename, why));
  }
  return selection;
}

const Selection& select_kernel_for_this_process() {
  static const Selection selection = [] {
    const char* user = std::getenv("OPENBLAS_CORETYPE");
    Selection s = select_kernel(cpu_features(),
                                user != nullptr ? std::optional<std::string>(user) : std::nullopt,
                                probe_in_child);
    if (!s.chosen.empty()) ::setenv("OPENBLAS_CORETYPE", s.chosen.c_str(), 1);
    for (const std::string& line : s.log) {
      if (s.chosen.empty()) {
        log::warn("{}", line);  // the fallback: a better kernel failed its check
      } else {
        log::info("{}", line);
      }
    }
    return s;
  }();
  return selection;
}

}  // namespace othrun::blas
