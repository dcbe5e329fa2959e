// Uses othrun::analysis without linking it: with -z defs this must not link.
#include <othrun/analysis/stats.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>

namespace {

class SdkMissing : public othrun::Step {
 public:
  static constexpr const char* kName = "sdk_missing";
  static constexpr const char* kVersion = "1.0.0";
  static othrun::Schema describe() { return othrun::Schema("links too little"); }
  explicit SdkMissing(const othrun::Config&) {}
  void run(othrun::RunContext&) override {
    othrun::log::info("{}", othrun::analysis::quantile_linear({1, 2}, 0.5));
  }
};

}  // namespace

OTHRUN_PLUGIN(SdkMissing)
