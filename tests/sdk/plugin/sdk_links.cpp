// Calls one function of each library the installed SDK exports, and logs the results, so the test
// sees that each library linked, loaded (RTLD_NOW) and ran.
#include <othrun/analysis/stats.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/torch/checkpoint.hpp>
#include <othrun/torch_bridge.hpp>
#include <othrun/train/schedule.hpp>

namespace {

class SdkLinks : public othrun::Step {
 public:
  static constexpr const char* kName = "sdk_links";
  static constexpr const char* kVersion = "1.0.0";

  static othrun::Schema describe() {
    othrun::Schema schema("Calls into othrun::analysis, torch, torch_bridge and train");
    schema.provides("sdk_links");
    return schema;
  }

  explicit SdkLinks(const othrun::Config&) {}

  void run(othrun::RunContext&) override {
    const float median = othrun::analysis::quantile_linear({1, 2, 3, 4}, 0.5);  // 2.5
    const std::vector<othrun::NamedTensor> state = {
        {"embed.W_E", othrun::HostTensor::from_values<float>({2}, {1, 2})}};
    const char* format = othrun::gpt::to_string(othrun::gpt::detect_format(state, "sdk"));
    const float sum = othrun::to_torch(othrun::HostTensor::from_values<float>({3}, {1, 2, 3}))
                          .sum()
                          .item<float>();  // 6
    othrun::train::Schedule schedule;
    schedule.lr = 1.0;
    schedule.warmup_steps = 4;
    schedule.total_steps = 10;
    othrun::log::info("sdk_links: median {} format {} sum {} lr {}", median, format, sum,
                      schedule.at(1));  // lr (1 + 1) / 4 = 0.5
  }
};

}  // namespace

OTHRUN_PLUGIN(SdkLinks)
