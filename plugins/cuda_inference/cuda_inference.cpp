// cuda_inference: the inference step on a CUDA GPU without LibTorch (docs/inference.md, "CUDA").
// Same parameters (but `device`), datasets and attributes as `inference`, whose `device: cuda` runs
// the same code. `othrun --list` shows it unavailable, with the CUDA runtime's reason, where no GPU
// is usable, and a step using it is refused at validation with that reason.
#include <othrun/plugin.hpp>

#include "device_choice.hpp"
#include "device_status.hpp"
#include "options.hpp"

namespace othrun::inference {

class CudaInference : public Step {
 public:
  static constexpr const char* kName = "cuda_inference";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() { return describe_schema(/*cuda_only=*/true); }
  static Availability probe() {
    const cuda_gpt::DeviceStatus status = cuda_gpt::cuda_device_status();
    return {status.available, status.reason};
  }
  static void validate(const Config& config) { validate_config(config); }
  static DatasetDecls produces(const Config& config) { return produces_datasets(config); }

  explicit CudaInference(const Config& config) : options_(parse_options(config)) {}

  void run(RunContext& ctx) override { run_on_cuda(options_, ctx); }

 private:
  Options options_;
};

}  // namespace othrun::inference

OTHRUN_PLUGIN(othrun::inference::CudaInference)
