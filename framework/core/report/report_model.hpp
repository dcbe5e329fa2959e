// What the report shows of a store, read once: one entry per product. Internal to libothrun_core.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <othrun/report.hpp>

namespace othrun::report {

struct StepReport {
  std::string label;
  std::string plugin, plugin_version, framework_revision, started, finished, product_id;
  std::string config;               // othrun.config (YAML)
  std::vector<std::string> inputs;  // "label:product_id"
  std::optional<double> seconds;
  std::vector<Figure> figures;
  std::string error;  // set when the product could not be read in full
  std::string stale;  // why, when it is not what a rerun would give (othrun --status's reason)
};

// Every complete product of `store`, in the order the steps started.
std::vector<StepReport> collect_steps(const Store& store);

}  // namespace othrun::report
