#include "runtime/dependencies.hpp"

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace othrun {
namespace {

std::vector<std::string> paths_of(const PlannedStep& step, bool reads) {
  std::vector<std::string> paths;
  for (const auto& spec : step.plugin->schema.params()) {
    if (spec.type != ParamType::Path || spec.must_exist != reads || !step.config.has(spec.name))
      continue;
    const std::string path = step.config.get_string(spec.name);
    if (!path.empty()) paths.push_back(fs::path(path).lexically_normal().string());
  }
  return paths;
}

// `inner` is `outer` or lies inside it.
bool within(const std::string& inner, const std::string& outer) {
  if (inner == outer) return true;
  const std::string folder = outer.back() == '/' ? outer : outer + "/";
  return inner.rfind(folder, 0) == 0;
}

}  // namespace

std::vector<std::vector<std::size_t>> step_dependencies(const Experiment& experiment) {
  const auto& steps = experiment.steps;
  std::vector<std::vector<std::size_t>> upstream(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PlannedStep& step = steps[i];
    std::vector<std::string> input_labels;
    for (const auto& spec : step.plugin->schema.params()) {
      if (spec.type == ParamType::Input && step.config.has(spec.name))
        input_labels.push_back(step.config.input_label(spec.name));
    }
    const auto reads = paths_of(step, true);
    for (std::size_t j = 0; j < i; ++j) {
      bool depends =
          std::find(input_labels.begin(), input_labels.end(), steps[j].label) != input_labels.end();
      for (const auto& written : paths_of(steps[j], false)) {
        for (const auto& read : reads) {
          if (within(read, written) || within(written, read)) depends = true;
        }
      }
      if (depends) upstream[i].push_back(j);
    }
  }
  return upstream;
}

}  // namespace othrun
