// What the report shows of a store, read once: one entry per step. Internal to libothrun_core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <othrun/report.hpp>

namespace othrun::report {

// A number a product stores as a scalar attribute (its key metrics): on its root, "name", or on a
// top-level group, "group/name".
struct Metric {
  std::string name;
  double value = 0;
  bool integer = false;
};

struct StepReport {
  std::string label;
  bool in_store = false;  // a product is shown (for a failed step: the one kept from before)
  std::string plugin, plugin_version, framework_revision, started, finished, product_id;
  std::string config;               // othrun.config (YAML)
  std::vector<std::string> inputs;  // "label:product_id"
  std::optional<double> seconds;
  std::int64_t step_index = -1;  // othrun.step_index: its place in the experiment that built it
  std::vector<Figure> figures;
  std::vector<Metric> metrics;
  // A product with feature dashboards: their index page, relative to the store's product folder
  // (root attributes dashboard_index and dashboard_title).
  std::string dashboard_index, dashboard_title;
  std::string error;  // set when the product could not be read in full
  // How the step stands: "ran", "up to date" (skipped in the last run), "failed", "interrupted",
  // "not run" (the last run's record), "missing" (its product has gone since), "stale" (built from
  // an input that changed since: wins over ran / up to date), "earlier run" (a product no step of
  // the last run names).
  std::string status;
  std::string status_detail;  // the error of a failed step, why one was not run or is stale
  std::optional<double> metric(const std::string& name) const;
};

// Every step of the store's last run in the experiment's order (runs/x.last_run.tsv), with or
// without a product, then the store's other products in the order they were built.
std::vector<StepReport> collect_steps(const Store& store);

}  // namespace othrun::report
