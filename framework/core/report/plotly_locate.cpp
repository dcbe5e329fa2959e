// Finding plotly.min.js: an environment override, the installed copy, the build tree's copy.
#include <dlfcn.h>

#include <cstdlib>

#include <othrun/report.hpp>

#ifndef OTHRUN_PLOTLY_JS_BUILD
#define OTHRUN_PLOTLY_JS_BUILD ""
#endif
#ifndef OTHRUN_PLOTLY_JS_FROM_LIBDIR
#define OTHRUN_PLOTLY_JS_FROM_LIBDIR "../share/othrun/plotly.min.js"
#endif

namespace fs = std::filesystem;

namespace othrun::report {
namespace {

// The folder of the loaded libothrun: an installed library finds share/othrun/ relative to it,
// wherever the prefix was moved to.
fs::path library_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&report_path_for), &info) == 0 || !info.dli_fname) return {};
  std::error_code ec;
  const fs::path library = fs::canonical(info.dli_fname, ec);
  return ec ? fs::path() : library.parent_path();
}

bool is_file(const fs::path& path) {
  std::error_code ec;
  return !path.empty() && fs::is_regular_file(path, ec);
}

}  // namespace

std::optional<fs::path> find_plotly_js() {
  if (const char* env = std::getenv("OTHRUN_PLOTLY_JS"); env && *env) {
    if (is_file(env)) return fs::path(env);
  }
  if (const fs::path dir = library_dir(); !dir.empty()) {
    const fs::path installed = dir / OTHRUN_PLOTLY_JS_FROM_LIBDIR;
    if (is_file(installed)) return installed.lexically_normal();
  }
  if (is_file(OTHRUN_PLOTLY_JS_BUILD)) return fs::path(OTHRUN_PLOTLY_JS_BUILD);
  return std::nullopt;
}

fs::path report_path_for(const fs::path& store_index) {
  fs::path out = store_index;
  out.replace_extension(".report.html");
  return out;
}

}  // namespace othrun::report
