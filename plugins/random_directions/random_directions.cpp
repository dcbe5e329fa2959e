// random_directions: the example plugin. It writes `count` random unit vectors of size `dim`,
// the baseline against which probe or SAE directions are compared (a random direction's cosine
// similarity with a fixed one is about N(0, 1/dim)).
//
// A plugin is one class derived from othrun::Step plus the OTHRUN_PLUGIN line at the bottom:
//   - kName / kVersion: the plugin's name (= folder = library file = YAML `plugin:` value).
//   - describe(): every parameter with type, default, range and a one-line doc. The host validates
//     experiments against it and prints it for `othrun --describe random_directions`.
//     It also declares the datasets the product will hold (schema.dataset), which `othrun --check`
//     resolves later steps' inputs against and the host checks once run() returned.
//   - validate() (optional): checks that involve several parameters; throw ConfigError(key, why).
//   - the constructor receives the validated, typed config.
//   - run(ctx): writes datasets under ctx.output().root(). The host marks the product complete
//     only after run() returns, and discards it if run() throws.
//   - reading an input product: `activations: cache:blocks.6.hook_resid_pre` names a cached hook of
//     an earlier step; ctx.input("activations") opens that product and
//     config.input_dataset("activations") is the (full) hook name, already checked to exist.
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

#include <cmath>
#include <random>
#include <vector>

namespace {

class RandomDirections : public othrun::Step {
 public:
  static constexpr const char* kName = "random_directions";
  static constexpr const char* kVersion = "1.0.0";

  static othrun::Schema describe() {
    othrun::Schema schema("Random unit vectors: a baseline for direction similarities");
    schema.integer("count", 1000, "number of directions").range(1, 10'000'000);
    schema.integer("dim", 512, "size of each direction (the model's d_model)").range(1, 65536);
    schema
        .input("activations", "activations", std::nullopt,
               "optional LABEL:HOOK: take `dim` from this cached hook's width instead")
        .hook_dataset()
        .optional = true;
    schema.choice("distribution", {"gaussian", "sign"}, "gaussian",
                  "entries drawn from N(0,1) or uniformly from {-1,+1}, then normalised");
    schema.provides("directions");
    schema.dataset("directions", othrun::DType::Float32, "direction,dim",
                   "row i: a random unit vector");
    return schema;
  }

  static void validate(const othrun::Config& config) {
    if (config.get_int("count") * config.get_int("dim") > 1'000'000'000) {
      throw othrun::ConfigError("count", "count * dim exceeds 1e9 values");
    }
  }

  explicit RandomDirections(const othrun::Config& config)
      : count_(static_cast<std::uint64_t>(config.get_int("count"))),
        dim_(static_cast<std::uint64_t>(config.get_int("dim"))),
        sign_(config.get_string("distribution") == "sign"),
        hook_(config.has("activations") ? config.input_dataset("activations") : "") {}

  void run(othrun::RunContext& ctx) override {
    if (!hook_.empty()) {
      // A cached hook is [games, positions, width]: the directions live in its last axis.
      const othrun::Product& activations = ctx.input("activations");
      dim_ = activations.root().dataset(hook_).shape().back();
    }
    othrun::Dataset directions = ctx.output().root().create_dataset<float>("directions", {0, dim_});
    directions.attrs().set("doc", "row i: a random unit vector");

    // Rows are written in chunks, so memory stays small whatever `count` is.
    constexpr std::uint64_t kChunk = 4096;
    std::mt19937_64 rng(ctx.seed());
    std::normal_distribution<float> normal;
    othrun::Progress progress("random_directions", count_, "directions");
    std::vector<float> chunk;
    for (std::uint64_t first = 0; first < count_; first += kChunk) {
      const std::uint64_t rows = std::min(kChunk, count_ - first);
      chunk.resize(rows * dim_);
      for (std::uint64_t row = 0; row < rows; ++row) fill_unit(&chunk[row * dim_], rng, normal);
      directions.append_rows<float>(chunk);
      progress.advance(rows);  // also stops cleanly on Ctrl-C
    }
  }

 private:
  void fill_unit(float* out, std::mt19937_64& rng, std::normal_distribution<float>& normal) const {
    double norm = 0;
    for (std::uint64_t i = 0; i < dim_; ++i) {
      out[i] = sign_ ? ((rng() & 1) ? 1.0f : -1.0f) : normal(rng);
      norm += double{out[i]} * out[i];
    }
    const float scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    for (std::uint64_t i = 0; i < dim_; ++i) out[i] *= scale;
  }

  std::uint64_t count_;
  std::uint64_t dim_;
  bool sign_;
  std::string hook_;  // "" unless `activations` names a cached hook
};

}  // namespace

OTHRUN_PLUGIN(RandomDirections)
