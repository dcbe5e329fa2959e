#include "runtime/product_status.hpp"

#include <map>
#include <optional>

#include <othrun/store.hpp>

#include "runtime/fingerprint.hpp"
#include "runtime/last_run.hpp"

namespace othrun {
namespace {

struct Recorded {
  std::vector<std::pair<std::string, std::string>> inputs;  // label, product id
  std::vector<InputFile> files;
  std::string product_id;
  std::string error;  // the product could not be read
};

Recorded read_recorded(const Store& store, const std::string& label) {
  Recorded out;
  try {
    const Product product = store.open(label);
    out.product_id = product.product_id();
    const Attributes attrs = product.root().attrs();
    std::vector<std::string> inputs;
    try {
      if (attrs.has("othrun.inputs")) inputs = attrs.get_strings("othrun.inputs");
    } catch (const std::exception&) {
      // An empty list is stored without a buffer and may not read back: no inputs.
    }
    {
      for (const auto& input : inputs) {
        const auto colon = input.rfind(':');
        out.inputs.emplace_back(input.substr(0, colon),
                                colon == std::string::npos ? "" : input.substr(colon + 1));
      }
    }
    out.files = recorded_input_files(product);
  } catch (const std::exception& error) {
    out.error = error.what();
  }
  return out;
}

class StatusBuilder {
 public:
  explicit StatusBuilder(const Store& store) {
    for (const auto& label : store.labels()) recorded_[label] = read_recorded(store, label);
    if (auto run = read_last_run(store.index_path())) last_run_ = std::move(*run);
  }

  std::vector<ProductStatus> build() {
    std::map<std::string, bool> named;  // every label to report
    for (const auto& [label, recorded] : recorded_) {
      named[label] = true;
      for (const auto& input : recorded.inputs) named[input.first] = true;
    }
    for (const auto& step : last_run_.steps) named[step.label] = true;
    std::vector<ProductStatus> out;
    for (const auto& entry : named) out.push_back(status(entry.first));
    return out;
  }

 private:
  const ProductStatus& status(const std::string& label) {
    if (auto it = done_.find(label); it != done_.end()) return it->second;
    ProductStatus s;
    s.label = label;
    done_[label] = s;  // a cycle (impossible in a store othrun wrote) ends here as complete
    const LastRunStep* last = last_run_.find(label);
    auto it = recorded_.find(label);
    s.in_store = it != recorded_.end();
    if (s.in_store) {
      for (const auto& input : it->second.inputs) s.inputs.push_back(input.first);
    }
    if (last && (last->status == "failed" || last->status == "interrupted")) {
      s.state = ProductStatus::State::Failed;
      s.reason = last->status + " in the last run";
      if (!last->detail.empty()) s.reason += ": " + last->detail;
      if (s.in_store) s.reason += " (an older product is kept)";
    } else if (!s.in_store) {
      s.state = ProductStatus::State::Missing;
      if (last && last->status == "not run") {
        s.reason = "not run in the last run (" + last->detail + ")";
      } else {
        s.reason = "not in the store";
      }
    } else if (!it->second.error.empty()) {
      s.state = ProductStatus::State::Stale;
      s.reason = "cannot be read: " + it->second.error;
    } else {
      s.reason = stale_reason(it->second);
      if (!s.reason.empty()) s.state = ProductStatus::State::Stale;
    }
    return done_[label] = s;
  }

  std::string stale_reason(const Recorded& recorded) {
    for (const auto& [input, id] : recorded.inputs) {
      auto it = recorded_.find(input);
      if (it == recorded_.end()) return "input '" + input + "' is no longer in the store";
      if (it->second.product_id != id) return "input '" + input + "' was rerun since";
    }
    for (const auto& [input, id] : recorded.inputs) {
      if (status(input).state != ProductStatus::State::Complete)
        return "input '" + input + "' is " + to_string(status(input).state);
    }
    for (const auto& file : recorded.files) {
      if (auto change = file_change(file, last_run_.files)) return *change;
    }
    return {};
  }

  std::map<std::string, Recorded> recorded_;
  LastRun last_run_;
  std::map<std::string, ProductStatus> done_;
};

}  // namespace

const char* to_string(ProductStatus::State state) {
  switch (state) {
    case ProductStatus::State::Complete:
      return "complete";
    case ProductStatus::State::Stale:
      return "stale";
    case ProductStatus::State::Failed:
      return "failed";
    case ProductStatus::State::Missing:
      return "missing";
  }
  return "?";
}

std::vector<ProductStatus> store_status(const Store& store) { return StatusBuilder(store).build(); }

}  // namespace othrun
