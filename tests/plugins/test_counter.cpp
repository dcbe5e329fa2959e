// test_counter: writes rows 0..rows-1 one at a time, optionally slowly, optionally failing, and
// optionally adding the sum of another counter product. It drives the host's runtime tests.
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

#include <chrono>
#include <thread>

namespace {

class TestCounter : public othrun::Step {
 public:
  static constexpr const char* kName = "test_counter";
  static constexpr const char* kVersion = "0.1.0";

  static othrun::Schema describe() {
    othrun::Schema schema("Counts rows (test plugin)");
    schema.integer("rows", 10, "rows to write").range(0, 1'000'000);
    schema.integer("row_delay_ms", 0, "pause after each row").range(0, 10'000);
    schema.integer("fail_at", -1, "throw when this row is reached (-1: never)").range(-1, {});
    schema.real("scale", 1.0, "multiplies every value").range(0.0, 100.0);
    schema.choice("mode", {"plain", "squared"}, "plain", "what each row holds");
    schema.texts("tags", std::vector<std::string>{}, "free tags").allow({"a", "b", "c"});
    schema.path("notes", std::nullopt, "a file (unused)").optional = true;
    schema.path("log", "", "a file (unused; empty: none)");
    schema.path("reads", "", "a file it would read (unused; empty: none)").existing();
    schema.input("source", "counter", std::nullopt, "another counter to add").optional = true;
    schema.provides("counter");
    return schema;
  }

  static void validate(const othrun::Config& config) {
    if (config.get_int("fail_at") >= config.get_int("rows") && config.get_int("rows") > 0) {
      throw othrun::ConfigError(
          "fail_at", "must be below 'rows' (" + std::to_string(config.get_int("rows")) + ")");
    }
  }

  explicit TestCounter(const othrun::Config& config) : config_(config) {}

  void run(othrun::RunContext& ctx) override {
    std::int64_t offset = 0;
    if (config_.has("source")) {
      for (auto v : ctx.input("source").root().dataset("values").read_all<std::int64_t>()) {
        offset += v;
      }
    }
    auto values =
        ctx.output().root().create_dataset<std::int64_t>("values", {0}, {.chunk_rows = 1});
    const auto rows = config_.get_int("rows");
    othrun::Progress progress("counting", static_cast<std::uint64_t>(rows));
    for (std::int64_t row = 0; row < rows; ++row) {
      if (row == config_.get_int("fail_at"))
        throw othrun::Error("failing at row " + std::to_string(row));
      std::int64_t value = config_.get_string("mode") == "squared" ? row * row : row;
      value = static_cast<std::int64_t>(value * config_.get_float("scale")) + offset;
      values.append_rows<std::int64_t>(std::span<const std::int64_t>(&value, 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(config_.get_int("row_delay_ms")));
      progress.advance();
    }
  }

 private:
  othrun::Config config_;
};

}  // namespace

OTHRUN_PLUGIN(TestCounter)
