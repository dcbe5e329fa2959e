// A plugin whose library file name differs from the name it declares.
#include <othrun/plugin.hpp>

namespace {
class Declared : public othrun::Step {
 public:
  static constexpr const char* kName = "declared_name";
  static constexpr const char* kVersion = "0.0.1";
  static othrun::Schema describe() { return othrun::Schema("misnamed"); }
  explicit Declared(const othrun::Config&) {}
  void run(othrun::RunContext&) override {}
};
}  // namespace

OTHRUN_PLUGIN(Declared)
