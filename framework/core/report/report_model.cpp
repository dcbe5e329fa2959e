#include "report/report_model.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <tuple>

#include <othrun/store.hpp>

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

StepReport read_step(const Store& store, const std::string& label) {
  StepReport step;
  step.label = label;
  // A product that cannot be read still gets its section, with the reason, not a failed report.
  try {
    const Product product = store.open(label);
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
    step.figures = read_figures(product.root());
  } catch (const std::exception& error) {
    step.error = error.what();
  }
  return step;
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

}  // namespace

std::vector<StepReport> collect_steps(const Store& store) {
  std::vector<StepReport> steps;
  for (const auto& label : store.labels()) steps.push_back(read_step(store, label));
  // A product built from inputs that changed since is marked, never shown as if it were current.
  try {
    std::map<std::string, ProductStatus> status;
    for (auto& product : store_status(store)) status[product.label] = std::move(product);
    for (auto& step : steps) {
      auto it = status.find(step.label);
      if (it == status.end() || it->second.state == ProductStatus::State::Complete) continue;
      step.stale = it->second.reason;
    }
  } catch (const std::exception& error) {
    for (auto& step : steps) step.stale = std::string("cannot tell: ") + error.what();
  }
  std::map<std::string, const StepReport*> by_label;
  for (const auto& step : steps) by_label[step.label] = &step;
  std::map<std::string, int> depths;
  for (const auto& step : steps) depths[step.label] = depth(by_label, step, 64);
  // Start times (ISO 8601, sorting as text) have one-second resolution: within a second, a step
  // comes after the steps it read.
  std::sort(steps.begin(), steps.end(), [&depths](const StepReport& a, const StepReport& b) {
    return std::tie(a.started, depths[a.label], a.label) <
           std::tie(b.started, depths[b.label], b.label);
  });
  return steps;
}

}  // namespace othrun::report
