#include "report/report_model.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <tuple>

#include <othrun/store.hpp>

#include "report/product_metrics.hpp"
#include "runtime/last_run.hpp"
#include "runtime/product_status.hpp"

namespace othrun::report {
namespace {

std::string text_attr(const Attributes& attrs, const char* name) {
  return attrs.has(name) ? attrs.get_string(name) : std::string();
}

// An empty string list may not read back (the store stores it without a buffer): empty then.
std::vector<std::string> text_list_attr(const Attributes& attrs, const char* name) {
  try {
    return attrs.has(name) ? attrs.get_strings(name) : std::vector<std::string>();
  } catch (const std::exception&) {
    return {};
  }
}

void read_product(const Store& store, StepReport& step) {
  step.in_store = true;
  // A product that cannot be read still gets its section, with the reason, not a failed report.
  try {
    const Product product = store.open(step.label);
    const Attributes attrs = product.root().attrs();
    step.plugin = text_attr(attrs, "othrun.plugin");
    step.plugin_version = text_attr(attrs, "othrun.plugin_version");
    step.framework_revision = text_attr(attrs, "othrun.framework_revision");
    step.started = text_attr(attrs, "othrun.started");
    step.finished = text_attr(attrs, "othrun.finished");
    step.product_id = text_attr(attrs, "othrun.product_id");
    step.config = text_attr(attrs, "othrun.config");
    step.inputs = text_list_attr(attrs, "othrun.inputs");
    if (attrs.has("othrun.seconds")) step.seconds = attrs.get_float("othrun.seconds");
    if (attrs.has("othrun.step_index")) step.step_index = attrs.get_int("othrun.step_index");
    step.metrics = read_metrics(product.root());
    step.dashboard_index = text_attr(attrs, "dashboard_index");
    step.dashboard_title = text_attr(attrs, "dashboard_title");
    step.figures = read_figures(product.root());
  } catch (const std::exception& error) {
    step.error = error.what();
  }
}

// How many steps of the store lie upstream of `step` (through othrun.inputs), at most.
int depth(const std::map<std::string, const StepReport*>& by_label, const StepReport& step,
          int limit) {
  int deepest = 0;
  for (const auto& input : step.inputs) {
    auto it = by_label.find(input.substr(0, input.find(':')));
    if (it != by_label.end() && it->second != &step && limit > 0) {
      deepest = std::max(deepest, 1 + depth(by_label, *it->second, limit - 1));
    }
  }
  return deepest;
}

// Products no step of the last run names, in the order they were built: start times (ISO 8601,
// sorting as text) have one-second resolution, so within a second by their place in the experiment
// (othrun.step_index), and for products written without it, after the steps they read.
void sort_by_start(std::vector<StepReport>& steps) {
  std::map<std::string, const StepReport*> by_label;
  for (const auto& step : steps) by_label[step.label] = &step;
  std::map<std::string, int> depths;
  for (const auto& step : steps) depths[step.label] = depth(by_label, step, 64);
  std::sort(steps.begin(), steps.end(), [&depths](const StepReport& a, const StepReport& b) {
    return std::tie(a.started, a.step_index, depths[a.label], a.label) <
           std::tie(b.started, b.step_index, depths[b.label], b.label);
  });
}

// The last run's word, unless the product has gone stale since (othrun --status's reason).
void set_status(StepReport& step, const LastRunStep* last, const ProductStatus* status) {
  const bool stale = status && status->state == ProductStatus::State::Stale;
  if (last && last->status != "ran" && last->status != "up to date") {
    step.status = last->status;  // failed, interrupted, not run
    step.status_detail = last->detail;
  } else if (status && status->state == ProductStatus::State::Missing) {
    step.status = "missing";  // ran or was skipped, but its product has gone since
    step.status_detail = status->reason;
  } else if (stale) {
    step.status = "stale";
    step.status_detail = status->reason;
  } else if (last) {
    step.status = last->status;
  } else {
    step.status = "earlier run";
    step.status_detail = "no step of the last run wrote or skipped it";
  }
}

}  // namespace

std::optional<double> StepReport::metric(const std::string& name) const {
  for (const auto& m : metrics) {
    if (m.name == name) return m.value;
  }
  return std::nullopt;
}

std::vector<StepReport> collect_steps(const Store& store) {
  const std::vector<std::string> labels = store.labels();
  const std::set<std::string> stored(labels.begin(), labels.end());
  const std::optional<LastRun> last_run = read_last_run(store.index_path());
  std::vector<StepReport> steps;
  std::set<std::string> listed;
  if (last_run) {
    for (const auto& entry : last_run->steps) {
      if (!listed.insert(entry.label).second) continue;
      StepReport step;
      step.label = entry.label;
      step.plugin = entry.plugin;
      if (stored.count(entry.label)) read_product(store, step);
      steps.push_back(std::move(step));
    }
  }
  std::vector<StepReport> others;
  for (const auto& label : labels) {
    if (listed.count(label)) continue;
    StepReport step;
    step.label = label;
    read_product(store, step);
    others.push_back(std::move(step));
  }
  sort_by_start(others);
  for (auto& step : others) steps.push_back(std::move(step));

  std::map<std::string, ProductStatus> status;
  std::string status_error;
  try {
    for (auto& product : store_status(store)) status[product.label] = std::move(product);
  } catch (const std::exception& error) {
    status_error = error.what();
  }
  for (auto& step : steps) {
    auto it = status.find(step.label);
    set_status(step, last_run ? last_run->find(step.label) : nullptr,
               it == status.end() ? nullptr : &it->second);
    if (!status_error.empty() && step.status != "failed") {
      step.status = "stale?";
      step.status_detail = "cannot tell whether it is current: " + status_error;
    }
  }
  return steps;
}

}  // namespace othrun::report
