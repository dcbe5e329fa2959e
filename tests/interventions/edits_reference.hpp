// The float64 edit reference (tests/python/reference_edits.py), made once per build tree and
// script text, like the inference tests' small reference.
#pragma once

#include <filesystem>
#include <string>

namespace othrun::test {

struct EditsReference {
  std::filesystem::path dir;  // tl.pth, inputs.pth, expected.pth
  std::string skip_reason;    // non-empty: /usr/bin/python3 lacks torch; the test must skip
};

const EditsReference& edits_reference();

}  // namespace othrun::test
