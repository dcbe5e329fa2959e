// sae_encode: runs an SAE (sae_training file or SAELens folder) over a cached hook and stores the
// feature activations as CSR plus reconstruction metrics (docs/analyses.md, "sae_encode").
#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

#include <fmt/format.h>

namespace {

using namespace othrun;

class SaeEncode : public Step {
 public:
  static constexpr const char* kName = "sae_encode";
  static constexpr const char* kVersion = "1.1.0";

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
    schema.positions("metric_positions", "all",
                     "positions the metrics/ attributes are computed over, \"first:stop\" (the "
                     "positions the SAE was trained on, e.g. \"5:54\": other positions can be far "
                     "outside its training distribution)");
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
        chunk_(static_cast<std::uint64_t>(config.get_int("chunk_games"))),
        metric_positions_(config.get_positions("metric_positions")) {}

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
    // `all` feeds the features' fired counts and density; `chosen` the metrics/ attributes, over
    // the metric positions (the same rows when they are all).
    analysis::SaeMetrics all(sae.d_in, sae.d_sae), chosen(sae.d_in, sae.d_sae);
    const std::vector<std::int64_t> columns = metric_columns(acts.span(), hook);
    const bool every_column = static_cast<std::int64_t>(columns.size()) == acts.positions();
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
      all.consume(x.data(), out.data(), sparse);
      if (!every_column) {
        consume_columns(chosen, x, out, dense, sae, static_cast<std::int64_t>(count),
                        acts.positions(), columns);
      }
      writer.append(sparse);
      progress.advance(count);
    }
    writer.finish(acts.games());
    features.attrs().set("hook", hook);
    write_metrics(root, sae, every_column ? all : chosen, all);
  }

 private:
  // The columns of the cached hook whose positions are metric_positions; refused when none is.
  std::vector<std::int64_t> metric_columns(const analysis::PositionSpan& span,
                                           const std::string& hook) const {
    std::vector<std::int64_t> columns;
    for (std::int64_t j = 0; j < span.count; ++j) {
      const std::int64_t position = span.position(j);
      if (position >= metric_positions_.begin &&
          (metric_positions_.stop < 0 || position < metric_positions_.stop)) {
        columns.push_back(j);
      }
    }
    if (columns.empty()) {
      throw ConfigError("metric_positions",
                        fmt::format("{} has none of the positions {} cached in hook '{}'",
                                    metric_positions_.to_string(), span.to_string(), hook));
    }
    return columns;
  }

  // Adds the rows of `columns` (of `positions` per game) of one chunk to `metrics`.
  static void consume_columns(analysis::SaeMetrics& metrics, const std::vector<float>& x,
                              const std::vector<float>& out, const std::vector<float>& dense,
                              const analysis::Sae& sae, std::int64_t games, std::int64_t positions,
                              const std::vector<std::int64_t>& columns) {
    const auto d_in = static_cast<std::size_t>(sae.d_in);
    const auto d_sae = static_cast<std::size_t>(sae.d_sae);
    std::vector<float> x_rows, out_rows, dense_rows;
    for (std::int64_t g = 0; g < games; ++g) {
      for (const std::int64_t j : columns) {
        const auto row = static_cast<std::size_t>(g * positions + j);
        x_rows.insert(x_rows.end(), x.begin() + row * d_in, x.begin() + (row + 1) * d_in);
        out_rows.insert(out_rows.end(), out.begin() + row * d_in, out.begin() + (row + 1) * d_in);
        dense_rows.insert(dense_rows.end(), dense.begin() + row * d_sae,
                          dense.begin() + (row + 1) * d_sae);
      }
    }
    analysis::SparseRows sparse;
    sparse.cols = sae.d_sae;
    sparse.append_dense(dense_rows.data(), games * static_cast<std::int64_t>(columns.size()));
    metrics.consume(x_rows.data(), out_rows.data(), sparse);
  }

  void write_metrics(Group& root, const analysis::Sae& sae, const analysis::SaeMetrics& m,
                     const analysis::SaeMetrics& every_row) const {
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
    ma.set("positions", metric_positions_.to_string());
    ma.set("doc",
           "over the rows at `positions` (metric_positions): mse: mean (out - x)^2; "
           "mse_sae_training: mean (out - x)^2 / ||x - mean_batch(x)|| with batches of chunk_games "
           "games; explained_variance: 1 - SSE / total SS; l0, dead_features. The fired and "
           "density datasets count every row of the features");
    std::vector<std::int64_t> fired(every_row.fired().begin(), every_row.fired().end());
    analysis::write_dataset(g, "fired", fired, {}, "rows where each feature fired (> 0)");
    analysis::write_dataset(g, "density", every_row.density(), {}, "fired / rows per feature");
  }

  std::filesystem::path sae_path_;
  std::string hook_;
  bool half_;
  std::uint64_t chunk_;
  PositionRange metric_positions_;
};

}  // namespace

OTHRUN_PLUGIN(SaeEncode)
