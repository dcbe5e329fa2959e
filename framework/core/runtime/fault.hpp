// Fault injection for the reliability tests (tests/reliability, docs/store.md): with
// OTHRUN_FAULT=<point>[#<n>]:<action> in the environment, the process acts when it reaches that
// point (the n-th time, default the first):
//   kill  SIGKILL itself (a crash at that exact moment)
//   int   raise SIGINT (Ctrl-C arriving at that moment)
//   fail  throw othrun::Error (e.g. a write refused there)
// Without the variable, fault::point() does nothing.
#pragma once

namespace othrun::fault {

void point(const char* name);

}  // namespace othrun::fault
