// Converts YAML nodes to typed parameter values, checking type, range and allowed values.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <stdexcept>

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

}  // namespace othrun
