// The BLAS kernel choice (decision logic with a fake prober, the SGEMM self-check, the real
// OpenBLAS in child processes), the thread policy and `othrun --system`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "runtime/blas.hpp"
#include "runtime/threads.hpp"
#include "test_helpers.hpp"

namespace othrun {
namespace {

using blas::CpuFeatures;
using blas::Probe;
using testing::run_command;

CpuFeatures avx512_cpu() {
  CpuFeatures cpu;
  cpu.model = "Test Xeon";
  cpu.sse3 = cpu.ssse3 = cpu.sse4_2 = cpu.avx = cpu.avx2 = cpu.fma = true;
  cpu.avx512f = cpu.avx512bw = cpu.avx512dq = cpu.avx512vl = cpu.avx512cd = true;
  return cpu;
}

// A prober that answers from a table (coretype -> probe) and records what it was asked.
struct FakeProber {
  std::map<std::string, Probe> answers;
  std::vector<std::string> asked;
  Probe operator()(const std::string& coretype, bool self_check) {
    asked.push_back(coretype + (self_check ? "+check" : ""));
    return answers.at(coretype);
  }
};

Probe loaded(const std::string& corename, bool correct = true) {
  Probe p;
  p.loaded = true;
  p.corename = corename;
  p.checked = true;
  p.correct = correct;
  p.worst = correct ? 0.1 : 1e6;
  if (!correct) p.failure = "SGEMM self-check error 1e+06x its bound";
  return p;
}

auto prober(FakeProber& fake) {
  return [&fake](const std::string& c, bool check) { return fake(c, check); };
}

TEST(BlasKernel, LevelsAndCandidates) {
  EXPECT_EQ(blas::kernel_level("Prescott"), 1);
  EXPECT_EQ(blas::kernel_level("Sandybridge"), 2);
  EXPECT_EQ(blas::kernel_level("Zen"), 3);
  EXPECT_EQ(blas::kernel_level("HASWELL"), 3);
  EXPECT_EQ(blas::kernel_level("Cooperlake"), 4);
  EXPECT_EQ(blas::kernel_level("Nonsense"), 0);
  EXPECT_EQ(blas::candidate_kernels(avx512_cpu()),
            (std::vector<std::string>{"SkylakeX", "Haswell"}));
  CpuFeatures avx2 = avx512_cpu();
  avx2.avx512bw = false;  // AVX-512 without BW is not enough for the SkylakeX kernels
  EXPECT_EQ(blas::candidate_kernels(avx2), (std::vector<std::string>{"Haswell"}));
  avx2.fma = false;
  EXPECT_TRUE(blas::candidate_kernels(avx2).empty());
}

TEST(BlasKernel, UserSettingWinsUnprobed) {
  FakeProber fake;
  const auto s = blas::select_kernel(avx512_cpu(), std::string("Prescott"), prober(fake));
  EXPECT_EQ(s.user_setting, "Prescott");
  EXPECT_TRUE(s.chosen.empty());
  EXPECT_TRUE(fake.asked.empty());
  EXPECT_TRUE(s.log.empty());
}

TEST(BlasKernel, GenericKernelIsReplacedByTheBestThatPassesItsCheck) {
  FakeProber fake;
  fake.answers = {{"", loaded("Prescott")}, {"SkylakeX", loaded("SkylakeX")}};
  const auto s = blas::select_kernel(avx512_cpu(), std::nullopt, prober(fake));
  EXPECT_EQ(s.default_kernel, "Prescott");
  EXPECT_EQ(s.chosen, "SkylakeX");
  EXPECT_EQ(fake.asked, (std::vector<std::string>{"", "SkylakeX+check"}));
  ASSERT_EQ(s.log.size(), 1u);
  EXPECT_NE(s.log[0].find("picks its Prescott kernel on this CPU (Test Xeon); using SkylakeX"),
            std::string::npos)
      << s.log[0];
}

TEST(BlasKernel, FailedCheckFallsBackToTheNextKernel) {
  FakeProber fake;
  fake.answers = {{"", loaded("Prescott")},
                  {"SkylakeX", loaded("SkylakeX", false)},
                  {"Haswell", loaded("Haswell")}};
  const auto s = blas::select_kernel(avx512_cpu(), std::nullopt, prober(fake));
  EXPECT_EQ(s.chosen, "Haswell");
  EXPECT_EQ(fake.asked, (std::vector<std::string>{"", "SkylakeX+check", "Haswell+check"}));
}

TEST(BlasKernel, EveryCheckFailingKeepsOpenBlasChoiceWithOneLine) {
  FakeProber fake;
  Probe crashed;
  crashed.failure = "crashed (Illegal instruction)";
  fake.answers = {
      {"", loaded("Prescott")}, {"SkylakeX", loaded("SkylakeX", false)}, {"Haswell", crashed}};
  const auto s = blas::select_kernel(avx512_cpu(), std::nullopt, prober(fake));
  EXPECT_TRUE(s.chosen.empty());
  ASSERT_EQ(s.log.size(), 1u);
  EXPECT_EQ(s.log[0],
            "BLAS: keeping OpenBLAS's Prescott kernel: the better kernels failed their check "
            "(SkylakeX: SGEMM self-check error 1e+06x its bound; Haswell: crashed (Illegal "
            "instruction))");
}

TEST(BlasKernel, GoodDefaultOrNoOpenBlasIsLeftAlone) {
  FakeProber fake;
  fake.answers = {{"", loaded("Cooperlake")}};
  auto s = blas::select_kernel(avx512_cpu(), std::nullopt, prober(fake));
  EXPECT_EQ(s.default_kernel, "Cooperlake");
  EXPECT_TRUE(s.chosen.empty());
  EXPECT_TRUE(s.log.empty());
  EXPECT_EQ(fake.asked, (std::vector<std::string>{""}));

  fake.answers = {{"", Probe{}}};  // libopenblas.so.0 absent: another BLAS
  s = blas::select_kernel(avx512_cpu(), std::nullopt, prober(fake));
  EXPECT_TRUE(s.default_kernel.empty());
  EXPECT_TRUE(s.chosen.empty());
}

// Reference SGEMM (row-major, as cblas_sgemm is called by the check), optionally wrong.
int g_fault = 0;  // 0 correct; 1 drops the last k term; 2 accumulates in bfloat16-like precision
void naive_sgemm(int, int, int transb, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float sum = 0;
      for (int p = 0; p < k - (g_fault == 1 ? 1 : 0); ++p) {
        const float bv = transb == 112 ? b[j * ldb + p] : b[p * ldb + j];
        sum += a[i * lda + p] * bv;
        if (g_fault == 2) sum = static_cast<float>(static_cast<int>(sum * 256)) / 256;
      }
      c[i * ldc + j] = alpha * sum + beta * c[i * ldc + j];
    }
  }
}

TEST(BlasKernel, SelfCheckPassesCorrectSgemmAndCatchesWrongOnes) {
  g_fault = 0;
  EXPECT_LT(blas::sgemm_self_check(naive_sgemm), 1.0);
  g_fault = 1;
  EXPECT_GT(blas::sgemm_self_check(naive_sgemm), 10.0);
  g_fault = 2;
  EXPECT_GT(blas::sgemm_self_check(naive_sgemm), 10.0);
  g_fault = 0;
}

// The real OpenBLAS (setup.sh installs it), loaded in child processes only.
TEST(BlasKernel, ProbesTheInstalledOpenBlasInAChild) {
  const Probe own = blas::probe_in_child("", true);
  if (!own.loaded) GTEST_SKIP() << "no libopenblas.so.0: " << own.failure;
  EXPECT_FALSE(own.corename.empty());
  EXPECT_TRUE(own.correct) << own.failure;
  const Probe prescott = blas::probe_in_child("Prescott", true);
  EXPECT_EQ(prescott.corename, "Prescott");
  EXPECT_TRUE(prescott.correct) << prescott.failure;
  for (const std::string& kernel : blas::candidate_kernels(blas::cpu_features())) {
    const Probe p = blas::probe_in_child(kernel, true);
    EXPECT_EQ(p.corename, kernel);
    EXPECT_TRUE(p.correct) << kernel << ": " << p.failure;
    EXPECT_LT(p.worst, 1.0) << kernel;
  }
}

// apply_policy is tested through othrun (SystemReport below): it changes the environment.
TEST(ThreadPolicy, Resolve) {
  EXPECT_EQ(threads::resolve(3), 3);
  EXPECT_GE(threads::resolve(0), 1);
}

// Leaves the thread policy's variables to othrun, whatever the caller's environment holds.
constexpr const char* kNoUserThreads =
    "env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS -u OMP_WAIT_POLICY";

// `othrun --system` with the build tree's plugins (LibTorch ones included when built).
std::string system_report(const std::string& env, const std::string& flags = "") {
  const auto r = run_command(env + " " + OTHRUN_EXE + " --system " + flags);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

TEST(SystemReport, PrintsEveryField) {
  const std::string out = system_report(kNoUserThreads, "--threads 2");
  for (const char* line :
       {"othrun: 0.", " (revision ", "\nexecutable: ", "\ncpu: ", " hardware threads\n",
        "\ncpu features: ", "\nblas library: ", "\nblas kernel: ", "\nblas config: OpenBLAS ",
        "\nblas kernel choice: ", "\ncblas for analysis plugins: ", "\nlibtorch: ",
        "\nthreads: othrun workers 2, ", "\nthread policy: ", "\nhdf5: 1.",
        "\nplugin path: ", "\nplugins: "}) {
    EXPECT_TRUE(has(out, line)) << "missing '" << line << "' in:\n" << out;
  }
#ifdef OTHRUN_HAVE_TORCH_PLUGINS
  EXPECT_TRUE(has(out, "\nlibtorch: 1.")) << out;
  EXPECT_TRUE(has(out, "ATen intra-op 2, ATen inter-op ")) << out;
  EXPECT_TRUE(has(out, " inference ")) << out;
  EXPECT_TRUE(has(out, ", OpenMP 2\n")) << out;  // libgomp comes with LibTorch
#endif
  EXPECT_TRUE(has(out, ", OpenBLAS 2, ")) << out;
  EXPECT_TRUE(has(out, " games ")) << out;
}

TEST(SystemReport, UsersKernelAndThreadSettingsWin) {
  std::string out = system_report(
      "OPENBLAS_CORETYPE=Prescott OMP_WAIT_POLICY=ACTIVE OPENBLAS_NUM_THREADS=1", "--threads 2");
  EXPECT_TRUE(has(out, "\nblas kernel: Prescott\n")) << out;
  EXPECT_TRUE(has(out, "\nblas kernel choice: OPENBLAS_CORETYPE=Prescott (yours; kept)\n")) << out;
  EXPECT_TRUE(has(out, "OPENBLAS_NUM_THREADS=1 (yours) OMP_WAIT_POLICY=ACTIVE (yours)")) << out;
  EXPECT_TRUE(has(out, ", OpenBLAS 1, ")) << out;

  out = system_report(std::string(kNoUserThreads) + " -u OPENBLAS_CORETYPE", "--threads 1");
  EXPECT_TRUE(has(out,
                  "thread policy: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "
                  "OMP_WAIT_POLICY=PASSIVE\n"))
      << out;
  EXPECT_TRUE(has(out, ", OpenBLAS 1, ")) << out;
#ifdef OTHRUN_HAVE_TORCH_PLUGINS
  EXPECT_TRUE(has(out, ", OpenMP 1\n")) << out;
#endif
  // Without a user setting, the kernel is OpenBLAS's own or one that passed the self-check, and
  // never below what the CPU supports.
  const auto best = blas::candidate_kernels(blas::cpu_features());
  if (!best.empty()) {
    const auto at = out.find("\nblas kernel: ");
    ASSERT_NE(at, std::string::npos) << out;
    const std::string kernel = out.substr(at + 14, out.find('\n', at + 1) - at - 14);
    EXPECT_GE(blas::kernel_level(kernel), blas::kernel_level(best.back())) << out;
  }
}

}  // namespace
}  // namespace othrun
