// sae_encode: runs an SAE (sae_training file or SAELens folder) over a cached hook and stores the
// feature activations as CSR plus reconstruction metrics (docs/analyses.md, "sae_encode"); with
// `model`, also the next-move loss with the SAE's reconstruction spliced in (splice_loss.hpp).
#ifdef OTHRUN_SAE_ENCODE_SPLICE
#include "splice_loss.hpp"
#endif

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

#include <othrun/games.hpp>
#include <othrun/hooks.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>

namespace {

using namespace othrun;

class SaeEncode : public Step {
 public:
  static constexpr const char* kName = "sae_encode";
  static constexpr const char* kVersion = "1.2.0";

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
    schema
        .path("model", std::nullopt,
              "Othello-GPT checkpoint the cache was made with: also measure the next-move loss "
              "clean and with the SAE's reconstruction spliced in at the hook over "
              "metric_positions (metrics/ loss_clean, loss_spliced); absent: not measured")
        .existing()
        .optional = true;
    schema
        .input("games", games::kKind, std::nullopt,
               "with `model`: the games product the cache ran on (the loss runs the model on them)")
        .optional = true;
    schema.integer("loss_games", 0, "with `model`: games the loss runs on, the first ones; 0: all")
        .range(0, 1e12);
    schema.provides("features");
    schema.data_parallel();
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

  static void validate(const Config& config) {
    if (!config.has("model")) {
      if (config.has("games"))
        throw ConfigError("games", "`games` is read only with `model`, which is not given");
      if (config.get_int("loss_games") != 0)
        throw ConfigError("loss_games", "`loss_games` is read only with `model`, not given");
      return;
    }
    if (!config.has("games"))
      throw ConfigError("games", "`model` needs the games the cache ran on: games: LABEL");
#ifdef OTHRUN_SAE_ENCODE_SPLICE
    // Files an earlier step writes, or references not fetched yet, are checked when it runs.
    const std::filesystem::path sae_path = config.get_path("sae"), model = config.get_path("model");
    std::error_code error;
    if (!std::filesystem::exists(sae_path, error)) return;
    const analysis::Sae sae = analysis::load_sae(sae_path);
    const std::string hook = splice_hook(config.input_dataset("activations"), sae, sae_path);
    if (std::filesystem::is_regular_file(model, error))
      sae_encode::check_splice(model, hook, sae, "model");
#else
    throw ConfigError("model",
                      "this build has no libothrun_torch: the spliced loss cannot be measured");
#endif
  }

  explicit SaeEncode(const Config& config)
      : sae_path_(config.get_path("sae")),
        hook_(config.input_dataset("activations")),
        half_(config.get_string("value_dtype") == "float16"),
        chunk_(static_cast<std::uint64_t>(config.get_int("chunk_games"))),
        metric_positions_(config.get_positions("metric_positions")),
        model_path_(config.has("model") ? config.get_path("model") : std::filesystem::path()),
        loss_games_(static_cast<std::uint64_t>(config.get_int("loss_games"))) {}

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
    Ranks& ranks = ctx.ranks();
    analysis::FeatureWriter writer(features, sae.d_sae, acts.span(), half_, &ranks);
    // `all` feeds the features' fired counts and density; `chosen` the metrics/ attributes, over
    // the metric positions (the same rows when they are all). Both per chunk of games, summed in
    // one order for any number of ranks (BlockTree).
    BlockTree<analysis::SaeMetrics> all_tree, chosen_tree;
    const std::vector<std::int64_t> columns = metric_columns(acts.span(), hook);
    const bool every_column = static_cast<std::int64_t>(columns.size()) == acts.positions();
    const RowShare share = ranks.share(acts.games(), chunk_);
    Progress progress("sae_encode", share.count(), "games");
    for (std::uint64_t first = share.begin; first < share.end; first += chunk_) {
      const std::uint64_t count = std::min(chunk_, share.end - first);
      analysis::SaeMetrics all(sae.d_in, sae.d_sae), chosen(sae.d_in, sae.d_sae);
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
      all_tree.add(first / chunk_, std::move(all));
      if (!every_column) chosen_tree.add(first / chunk_, std::move(chosen));
      progress.advance(count);
    }
    writer.finish(acts.games());
    features.attrs().set("hook", hook);
    const std::uint64_t chunks = (acts.games() + chunk_ - 1) / chunk_;
    const auto empty = [&] { return analysis::SaeMetrics(sae.d_in, sae.d_sae); };
    const analysis::SaeMetrics all = all_tree.reduce(ranks, chunks).value_or(empty());
    const analysis::SaeMetrics chosen =
        every_column ? empty() : chosen_tree.reduce(ranks, chunks).value_or(empty());
    if (!ranks.is_root()) return;  // rank 0 writes the metrics and measures the loss
    write_metrics(root, sae, every_column ? all : chosen, all);
#ifdef OTHRUN_SAE_ENCODE_SPLICE
    if (!model_path_.empty()) write_loss(ctx, sae, hook);
#endif
  }

 private:
  // The hook the loss splices at: the cached hook this step encodes, which must be the one the
  // SAE was trained on when its file names it (a reconstruction spliced elsewhere measures
  // nothing meaningful).
  static std::string splice_hook(const std::string& cached_hook, const analysis::Sae& sae,
                                 const std::filesystem::path& sae_path) {
    if (cached_hook.empty())
      throw ConfigError("activations", "`model` needs the hook named: activations: LABEL:HOOK");
    if (!sae.hook_name.empty() && canonical_hook(sae.hook_name) != canonical_hook(cached_hook))
      throw ConfigError("model", fmt::format("the SAE {} was trained on hook {}, but this step "
                                             "encodes (and would splice at) hook {}",
                                             sae_path.string(), sae.hook_name, cached_hook));
    return canonical_hook(cached_hook);
  }

#ifdef OTHRUN_SAE_ENCODE_SPLICE
  // The next-move loss clean and spliced, as metrics/ attributes.
  void write_loss(RunContext& ctx, const analysis::Sae& sae, const std::string& cached_hook) const {
    const Product& games_product = ctx.input("games");
    check_same_games(ctx.input("activations"), games_product);
    check_same_model(ctx.input("activations"), model_path_);
    const games::GamesReader games(games_product);
    if (loss_games_ > games.size())
      throw ConfigError("loss_games",
                        fmt::format("{} games asked, but product '{}' holds {}", loss_games_,
                                    games_product.label(), games.size()));
    sae_encode::SpliceRequest request;
    request.model = model_path_;
    request.hook = splice_hook(cached_hook, sae, sae_path_);
    request.positions = metric_positions_;
    request.games = loss_games_ == 0 ? games.size() : loss_games_;
    request.batch_games = chunk_;
    request.threads = ctx.threads();
    const auto start = std::chrono::steady_clock::now();
    const sae_encode::SpliceLoss loss =
        sae_encode::splice_loss(request, std::make_shared<analysis::Sae>(sae), games);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    Attributes a = ctx.output().root().group("metrics").attrs();
    a.set("loss_clean", loss.clean);
    a.set("loss_spliced", loss.spliced);
    a.set("loss_targets", loss.targets);
    a.set("loss_games", static_cast<std::int64_t>(loss.games));
    a.set("loss_seconds", seconds.count());  // its cost: two forward passes of loss_games games
    a.set("loss_model", model_path_.string());
    a.set("loss_hook", request.hook);
    a.set("loss_spliced_positions", fmt::format("{}:{}", loss.splice_begin, loss.splice_stop));
    a.set("loss_doc",
          "loss_clean: mean next-move cross-entropy (nats) of loss_model over loss_targets next "
          "moves (every position of the first loss_games games); loss_spliced: the same with the "
          "SAE's reconstruction decode(encode(x)) replacing the activation at loss_hook at the "
          "positions loss_spliced_positions");
  }

  // The model must be the one the cache was made with, which the activations product's config
  // (othrun.config, written by inference) names as `model: PATH`.
  static void check_same_model(const Product& activations, const std::filesystem::path& model) {
    const Attributes attrs = activations.root().attrs();
    const std::string config = attrs.has("othrun.config") ? attrs.get_string("othrun.config") : "";
    std::string cached;
    std::istringstream lines(config);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("model: ", 0) == 0) cached = line.substr(7);
    }
    if (cached.size() >= 2 && (cached.front() == '"' || cached.front() == '\'') &&
        cached.back() == cached.front())
      cached = cached.substr(1, cached.size() - 2);
    std::error_code error;
    if (cached.empty() || !std::filesystem::equivalent(cached, model, error))
      throw ConfigError(
          "model", fmt::format("the activations '{}' were made with {}, not {}: "
                               "the loss must run the model they came from",
                               activations.label(), cached.empty() ? "no recorded model" : cached,
                               model.string()));
  }

  // The games must be those the cache ran on: the activations product records them as an input.
  static void check_same_games(const Product& activations, const Product& games_product) {
    const std::string id = games_product.label() + ":" + games_product.product_id();
    const Attributes attrs = activations.root().attrs();
    const std::vector<std::string> inputs = attrs.has("othrun.inputs")
                                                ? attrs.get_strings("othrun.inputs")
                                                : std::vector<std::string>();
    if (std::find(inputs.begin(), inputs.end(), id) == inputs.end())
      throw ConfigError("games",
                        fmt::format("product '{}' is not the games the activations "
                                    "'{}' were computed on (its inputs: {})",
                                    games_product.label(), activations.label(),
                                    inputs.empty() ? "none recorded"
                                                   : fmt::format("{}", fmt::join(inputs, ", "))));
  }
#endif
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
  std::filesystem::path model_path_;
  std::uint64_t loss_games_;
};

}  // namespace

OTHRUN_PLUGIN(SaeEncode)
