// Converts YAML nodes to typed parameter values, checking type, range and allowed values.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <othrun/schema.hpp>

namespace othrun {

// The reason a node does not fit its ParamSpec, worded to follow "step 'x' (plugin): ".
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `base_dir` resolves relative Path values. Throws ValueError.
Value convert_value(const YAML::Node& node, const ParamSpec& spec,
                    const std::filesystem::path& base_dir);

// A problem yaml-cpp accepts silently, at a 1-based line of the file.
struct YamlProblem {
  int line = 0;
  std::string message;
};

// Every mapping key in `root` (recursively) that is not a plain scalar (e.g. `{x: 1}: 2`, `~: 1`),
// and every key given twice in one mapping: yaml-cpp keeps both entries, and which one a lookup
// sees depends on how it is looked up. In document order.
std::vector<YamlProblem> yaml_key_problems(const YAML::Node& root);

// The text of a mapping key, or "" when it is not a scalar (reported by yaml_key_problems).
std::string key_text(const YAML::Node& key);

}  // namespace othrun
