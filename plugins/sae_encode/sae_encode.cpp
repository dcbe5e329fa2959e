// sae_encode: runs an SAE (sae_training file or SAELens folder) over a cached hook and stores the
// feature activations as CSR plus reconstruction metrics (docs/analyses.md, "sae_encode").
#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

namespace {

using namespace othrun;

class SaeEncode : public Step {
 public:
  static constexpr const char* kName = "sae_encode";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema("Encode a cached hook with an SAE: sparse feature activations and metrics");
    schema
        .input("activations", "activations", std::nullopt,
               "the cached hook to encode, LABEL:HOOK (e.g. cache:blocks.6.hook_resid_pre)")
        .hook_dataset();
    schema
        .path("sae", std::nullopt,
              "sae_training .pt file or SAELens folder (cfg.json + sae_weights.safetensors)")
        .existing();
    schema.retired("hook",
                   "name the hook in the input: activations: LABEL:HOOK, e.g. "
                   "activations: cache:blocks.6.hook_resid_pre");
    schema.choice("value_dtype", {"float16", "float32"}, "float32",
                  "stored dtype of the activations");
    schema.integer("chunk_games", 64, "games per chunk (also the batch of the sae_training MSE)")
        .range(1, 1000000);
    schema.provides("features");
    for (const auto& d : produces_for(false)) schema.dataset(d);
    return schema;
  }

  // features/index is int16 or int32 by the SAE's width, unknown before it loads: not declared.
  static DatasetDecls produces(const Config& config) {
    return produces_for(config.get_string("value_dtype") == "float16");
  }
  static DatasetDecls produces_for(bool half) {
    return {{"features/row_ptr", DType::Int64, "row", "CSR row pointers", "", {}},
            {"features/value",
             half ? DType::Float16 : DType::Float32,
             "entry",
             "non-zero feature activations (CSR)",
             "",
             {}},
            {"metrics/fired", DType::Int64, "feature", "rows where each feature fired", "", {}},
            {"metrics/density", DType::Float64, "feature", "fired / rows", "", {}}};
  }

  explicit SaeEncode(const Config& config)
      : sae_path_(config.get_path("sae")),
        hook_(config.input_dataset("activations")),
        half_(config.get_string("value_dtype") == "float16"),
        chunk_(static_cast<std::uint64_t>(config.get_int("chunk_games"))) {}

  void run(RunContext& ctx) override {
    const analysis::Sae sae = analysis::load_sae(sae_path_);
    const std::string hook = hook_.empty() ? sae.hook_name : hook_;
    if (hook.empty()) throw ConfigError("hook", "the SAE does not name its hook: set `hook`");
    const analysis::ActivationReader acts(ctx.input("activations"), hook);
    if (acts.width() != sae.d_in) {
      throw DataError("hook '" + hook + "' has width " + std::to_string(acts.width()) +
                      " but the SAE's d_in is " + std::to_string(sae.d_in));
    }
    Group& root = ctx.output().root();
    Group features = root.create_group("features");
    // The features carry the cache's positions forward: row (g, j) is position span.position(j).
    analysis::FeatureWriter writer(features, sae.d_sae, acts.span(), half_);
    analysis::SaeMetrics metrics(sae.d_in, sae.d_sae);
    Progress progress("sae_encode", acts.games(), "games");
    for (std::uint64_t first = 0; first < acts.games(); first += chunk_) {
      const std::uint64_t count = std::min(chunk_, acts.games() - first);
      const std::vector<float> x = acts.read(first, count);
      const auto rows = static_cast<std::int64_t>(count) * acts.positions();
      std::vector<float> dense(static_cast<std::size_t>(rows * sae.d_sae));
      sae.encode(x.data(), rows, dense.data());
      analysis::SparseRows sparse;
      sparse.cols = sae.d_sae;
      sparse.append_dense(dense.data(), rows);
      std::vector<float> out(x.size());
      sae.decode(dense.data(), rows, out.data());
      metrics.consume(x.data(), out.data(), sparse);
      writer.append(sparse);
      progress.advance(count);
    }
    writer.finish(acts.games());
    features.attrs().set("hook", hook);
    write_metrics(root, sae, metrics);
  }

 private:
  void write_metrics(Group& root, const analysis::Sae& sae, const analysis::SaeMetrics& m) const {
    auto a = root.attrs();
    a.set("sae_path", sae_path_.string());
    a.set("sae_format", sae.format);
    a.set("architecture", analysis::to_string(sae.architecture));
    a.set("d_in", sae.d_in);
    a.set("d_sae", sae.d_sae);
    Group g = root.create_group("metrics");
    auto ma = g.attrs();
    ma.set("rows", static_cast<std::int64_t>(m.rows()));
    ma.set("mse", m.mse());
    ma.set("mse_sae_training", m.mse_sae_training());
    ma.set("mse_batch_games", static_cast<std::int64_t>(chunk_));
    ma.set("explained_variance", m.explained_variance());
    ma.set("l0", m.l0());
    ma.set("dead_features", m.dead_features());
    ma.set("doc",
           "mse: mean (out - x)^2; mse_sae_training: mean (out - x)^2 / ||x - mean_batch(x)||"
           " with batches of chunk_games games; explained_variance: 1 - SSE / total SS");
    std::vector<std::int64_t> fired(m.fired().begin(), m.fired().end());
    analysis::write_dataset(g, "fired", fired, {}, "rows where each feature fired (> 0)");
    analysis::write_dataset(g, "density", m.density(), {}, "fired / rows per feature");
  }

  std::filesystem::path sae_path_;
  std::string hook_;
  bool half_;
  std::uint64_t chunk_;
};

}  // namespace

OTHRUN_PLUGIN(SaeEncode)
