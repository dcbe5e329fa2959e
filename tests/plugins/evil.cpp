// A library whose constructor runs on dlopen and leaves a marker file ($OTHRUN_TEST_MARKER):
// an experiment naming it by path (`plugin: /dir/evil`, `plugin: ../x/evil`) must be refused
// without loading it, so the marker never appears.
#include <cstdio>
#include <cstdlib>

namespace {
__attribute__((constructor)) void leave_marker() {
  if (const char* path = std::getenv("OTHRUN_TEST_MARKER")) {
    if (std::FILE* file = std::fopen(path, "w")) std::fclose(file);
  }
}
}  // namespace
