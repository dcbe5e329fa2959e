// train_sae: trains an SAE on one cached hook of an activations product (the sae_training recipe,
// or top-k), reports reconstruction metrics on held-out games and the model's next-move loss
// increase when the SAE replaces the activation, and saves a SAELens folder (docs/training.md).
#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/games.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/safetensors.hpp>
#include <othrun/train/sae_splice.hpp>
#include <othrun/train/sae_training.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace othrun::train {

namespace {

// Rows (game, position) of games [first, first + count) at model positions [begin, end), given
// that the dataset's column j holds model position `stored_start` + j.
std::vector<float> read_rows(const analysis::ActivationReader& acts, std::uint64_t first,
                             std::uint64_t count, std::int64_t stored_start, std::int64_t begin,
                             std::int64_t end) {
  const std::vector<float> all = acts.read(first, count);
  const auto width = static_cast<std::size_t>(acts.width());
  std::vector<float> out;
  out.reserve(count * static_cast<std::size_t>(end - begin) * width);
  for (std::uint64_t g = 0; g < count; ++g) {
    for (std::int64_t p = begin; p < end; ++p) {
      const auto* row = all.data() + (g * static_cast<std::uint64_t>(acts.positions()) +
                                      static_cast<std::uint64_t>(p - stored_start)) *
                                         width;
      out.insert(out.end(), row, row + width);
    }
  }
  return out;
}

HostTensor matrix(const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
  return cols > 0 ? HostTensor::from_values<float>({rows, cols}, v)
                  : HostTensor::from_values<float>({rows}, v);
}

}  // namespace

class TrainSae : public Step {
 public:
  static constexpr const char* kName = "train_sae";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema s("Trains a sparse autoencoder on cached activations; saves a SAELens folder");
    s.input("activations", "activations", std::nullopt,
            "the cached hook to train on, LABEL:HOOK (e.g. inference:blocks.6.hook_resid_pre)")
        .hook_dataset();
    s.input("games", "games", "games", "the games the activations were computed on (loss test)");
    s.retired("hook",
              "name the hook in the input: activations: LABEL:HOOK, e.g. "
              "activations: inference:blocks.6.hook_resid_pre");
    s.positions("positions", "5:54",
                "model positions trained on, \"first:stop\" (sae_training's start/end_pos_offset)")
        .within("activations");
    s.integer("d_sae", 4096, "number of features").range(1, 1 << 24);
    s.choice("architecture", {"standard", "topk"}, "standard", "ReLU + L1, or top-k");
    s.integer("k", 32, "top-k: active features per row").range(1, 1 << 20);
    s.real("l1_coefficient", 2e-4, "standard: L1 coefficient").range(0, 1e6);
    s.real("lr", 3e-4, "Adam learning rate").range(0, 10);
    s.integer("warmup_steps", 500, "linear lr warm-up steps").range(0, 1e9);
    s.integer("steps", 5000, "optimiser steps").range(1, 1e9);
    s.integer("batch_rows", 4096, "rows (positions) per step").range(1, 1e7);
    s.real("beta1", 0.9, "Adam beta1").range(0, 1);
    s.real("beta2", 0.99, "Adam beta2").range(0, 1);
    s.flag("ghost_grads", true, "standard: ghost grads for features dead over dead_feature_window");
    s.integer("dead_feature_window", 500, "steps without firing that make a feature dead")
        .range(1, 1e9);
    s.integer("feature_sampling_window", 500, "steps per feature-density window").range(1, 1e9);
    s.integer("geometric_median_rows", 10000, "rows for b_dec's geometric-median init (0: zeros)")
        .range(0, 1e8);
    s.integer("max_rows", 2'000'000, "at most this many training rows are loaded into memory")
        .range(1, 1e10);
    s.real("holdout_fraction", 0.1, "last games held out for the metrics").range(0, 0.9);
    s.integer("loss_games", 200, "held-out games for the spliced-loss test (0: skip)")
        .range(0, 1e7);
    s.path("model", "", "model file for the loss test (empty: the activations product's model)")
        .existing();
    s.path("output", "", "SAELens folder (empty: <store>.d/<label>.sae)");
    s.integer("seed", 0, "seed (0: the step's seed)").range(0, 9e18);
    s.integer("log_every", 100, "log every N steps").range(1, 1e9);
    s.provides("sae");
    s.dataset("curve/step", DType::Int64, "log", "logged step");
    for (const char* name : {"curve/loss", "curve/mse", "curve/l1", "curve/ghost", "curve/l0"}) {
      s.dataset(name, DType::Float64, "log", "loss terms per logged step");
    }
    s.dataset("curve/density", DType::Float64, "feature", "firing rate over the last window");
    return s;
  }

  explicit TrainSae(const Config& c) : c_(c) {}

  void run(RunContext& ctx) override {
    const Product& product = ctx.input("activations");
    const std::string hook = c_.input_dataset("activations");
    const analysis::ActivationReader acts(product, hook);
    const std::int64_t stored_start = acts.span().first;
    const PositionRange wanted = c_.get_positions("positions");
    const std::int64_t begin = wanted.begin;
    const std::int64_t stored_stop = stored_start + acts.positions();
    const std::int64_t end = wanted.stop < 0 ? stored_stop : std::min(wanted.stop, stored_stop);
    if (begin < stored_start || end <= begin) {
      throw ConfigError("positions", fmt::format("the product caches positions [{}, {})",
                                                 stored_start, stored_start + acts.positions()));
    }
    const std::uint64_t holdout =
        std::max<std::uint64_t>(1, static_cast<std::uint64_t>(c_.get_float("holdout_fraction") *
                                                              static_cast<double>(acts.games())));
    const std::uint64_t train_games = std::min<std::uint64_t>(
        acts.games() - holdout,
        static_cast<std::uint64_t>(c_.get_int("max_rows") / (end - begin)) + 1);
    if (acts.games() <= holdout) throw DataError("train_sae: too few games to hold any out");
    std::vector<float> data = read_rows(acts, 0, train_games, stored_start, begin, end);
    const std::int64_t rows = std::min<std::int64_t>(
        static_cast<std::int64_t>(data.size()) / acts.width(), c_.get_int("max_rows"));
    data.resize(static_cast<std::size_t>(rows * acts.width()));

    SaeTrainingOptions o = options(ctx, acts.width());
    const SaeTrainingResult r = train_sae(data, rows, o);
    Group& root = ctx.output().root();
    write_metrics(root, r, acts, stored_start, begin, end, holdout);
    if (c_.get_int("loss_games") > 0) write_loss(ctx, root, r, product, hook, begin, end);
    const auto folder = c_.get_string("output").empty()
                            ? ctx.output().path().parent_path() / (ctx.output().label() + ".sae")
                            : c_.get_path("output");
    save_saelens(folder, r.weights, hook, product);
    root.attrs().set("sae_path", folder.string());
    root.attrs().set("hook", hook);
    root.attrs().set("positions", std::vector<std::int64_t>{begin, end});
    root.attrs().set("training_rows", rows);
    root.attrs().set("ghost_grad_steps", r.ghost_steps);
    write_curves(root, r);
  }

 private:
  SaeTrainingOptions options(const RunContext& ctx, std::int64_t d_in) const {
    SaeTrainingOptions o;
    o.d_in = d_in;
    o.d_sae = c_.get_int("d_sae");
    o.architecture = c_.get_string("architecture");
    o.k = c_.get_int("k");
    o.l1_coefficient = c_.get_float("l1_coefficient");
    o.lr = c_.get_float("lr");
    o.warmup_steps = c_.get_int("warmup_steps");
    o.steps = c_.get_int("steps");
    o.batch_rows = c_.get_int("batch_rows");
    o.beta1 = c_.get_float("beta1");
    o.beta2 = c_.get_float("beta2");
    o.ghost_grads = c_.get_bool("ghost_grads");
    o.dead_feature_window = c_.get_int("dead_feature_window");
    o.feature_sampling_window = c_.get_int("feature_sampling_window");
    o.geometric_median_rows = c_.get_int("geometric_median_rows");
    o.seed = c_.get_int("seed") != 0 ? static_cast<std::uint64_t>(c_.get_int("seed")) : ctx.seed();
    o.log_every = c_.get_int("log_every");
    o.threads = ctx.threads();
    return o;
  }

  void write_metrics(Group& root, const SaeTrainingResult& r,
                     const analysis::ActivationReader& acts, std::int64_t stored_start,
                     std::int64_t begin, std::int64_t end, std::uint64_t holdout) const {
    const analysis::Sae sae =
        to_analysis_sae(r.weights, c_.get_string("architecture"), c_.get_int("k"));
    analysis::SaeMetrics metrics(sae.d_in, sae.d_sae);
    const std::uint64_t first = acts.games() - holdout;
    for (std::uint64_t g = first; g < acts.games(); g += 256) {
      const std::uint64_t count = std::min<std::uint64_t>(256, acts.games() - g);
      const std::vector<float> x = read_rows(acts, g, count, stored_start, begin, end);
      const auto n = static_cast<std::int64_t>(x.size()) / sae.d_in;
      std::vector<float> a(static_cast<std::size_t>(n * sae.d_sae)), out(x.size());
      sae.encode(x.data(), n, a.data());
      sae.decode(a.data(), n, out.data());
      analysis::SparseRows sparse;
      sparse.cols = sae.d_sae;
      sparse.append_dense(a.data(), n);
      metrics.consume(x.data(), out.data(), sparse);
    }
    auto attrs = root.attrs();
    attrs.set("heldout_games", static_cast<std::int64_t>(holdout));
    attrs.set("mse", metrics.mse());
    attrs.set("mse_sae_training", metrics.mse_sae_training());
    attrs.set("explained_variance", metrics.explained_variance());
    attrs.set("l0", metrics.l0());
    attrs.set("dead_features", metrics.dead_features());
    log::info(
        "train_sae: held-out mse {:.4g}, explained variance {:.4f}, L0 {:.1f}, {} dead features",
        metrics.mse(), metrics.explained_variance(), metrics.l0(), metrics.dead_features());
  }

  void write_loss(RunContext& ctx, Group& root, const SaeTrainingResult& r, const Product& product,
                  const std::string& hook, std::int64_t begin, std::int64_t end) const {
    SpliceRequest req;
    const auto a = product.root().attrs();
    req.model = c_.get_string("model").empty() ? std::filesystem::path(a.get_string("model"))
                                               : c_.get_path("model");
    req.load.process = gpt::ProcessOptions::none();
    if (a.has("process_weights")) {
      for (const auto& step : a.get_strings("process_weights")) {
        req.load.process.fold_ln |= step == "fold_ln";
        req.load.process.center_writing_weights |= step == "center_writing_weights";
        req.load.process.center_unembed |= step == "center_unembed";
        req.load.process.fold_value_biases |= step == "fold_value_biases";
      }
    }
    req.hook = hook;
    req.architecture = c_.get_string("architecture");
    req.k = c_.get_int("k");
    req.pos_begin = begin;
    req.pos_end = end;
    req.threads = ctx.threads();
    const games::GamesReader games(ctx.input("games"));
    const auto n =
        std::min<std::uint64_t>(games.size(), static_cast<std::uint64_t>(c_.get_int("loss_games")));
    const auto small = games.tokens(games.size() - n, n);  // the last games: held out
    const SpliceLoss loss =
        spliced_loss(req, r.weights, std::vector<std::int64_t>(small.begin(), small.end()));
    root.attrs().set("loss_clean", loss.clean);
    root.attrs().set("loss_spliced", loss.spliced);
    root.attrs().set("loss_increase", loss.increase());
    log::info("train_sae: next-move loss {:.4f} -> {:.4f} with the SAE at {}", loss.clean,
              loss.spliced, hook);
  }

  void save_saelens(const std::filesystem::path& folder, const SaeWeights& w,
                    const std::string& hook, const Product& product) const {
    std::filesystem::create_directories(folder);
    const auto a = product.root().attrs();
    // The model's file name: its path would tie the folder to the machine that trained it.
    const std::string model_name =
        a.has("model") ? std::filesystem::path(a.get_string("model")).filename().string()
                       : "othello-gpt";
    nlohmann::json cfg = {{"d_in", w.d_in},
                          {"d_sae", w.d_sae},
                          {"architecture", c_.get_string("architecture")},
                          {"apply_b_dec_to_input", true},
                          {"normalize_activations", "none"},
                          {"dtype", "float32"},
                          {"device", "cpu"},
                          {"metadata",
                           {{"hook_name", hook},
                            {"hook_head_index", nullptr},
                            {"model_name", model_name},
                            {"context_size", 59},
                            {"prepend_bos", false},
                            {"trained_by", "othrun train_sae"},
                            {"positions", positions_pair()},
                            {"l1_coefficient", c_.get_float("l1_coefficient")}}}};
    if (c_.get_string("architecture") == "topk") cfg["k"] = c_.get_int("k");
    std::ofstream(folder / "cfg.json") << cfg.dump(2) << "\n";
    save_safetensors(folder / "sae_weights.safetensors",
                     {{"W_enc", matrix(w.W_enc, w.d_in, w.d_sae)},
                      {"b_enc", matrix(w.b_enc, w.d_sae, 0)},
                      {"W_dec", matrix(w.W_dec, w.d_sae, w.d_in)},
                      {"b_dec", matrix(w.b_dec, w.d_in, 0)}});
  }

  // cfg.json's "positions": [first, stop) as sae_training's offsets (-1: to the last position).
  std::vector<std::int64_t> positions_pair() const {
    const PositionRange p = c_.get_positions("positions");
    return {p.begin, p.stop};
  }

  static void write_curves(Group& root, const SaeTrainingResult& r) {
    Group g = root.create_group("curve");
    auto put = [&](const char* name, const auto& v, const char* doc) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      Dataset d = g.create_dataset<T>(name, {v.size()});
      if (!v.empty()) d.write_rows<T>(0, v);
      d.attrs().set("doc", doc);
    };
    put("step", r.step, "logged step");
    put("loss", r.loss, "total training loss of that step's batch");
    put("mse", r.mse, "sae_training's normalised MSE");
    put("l1", r.l1, "l1_coefficient * mean sum |acts|");
    put("ghost", r.ghost, "ghost-grad loss (0 when no feature was dead)");
    put("l0", r.l0, "mean active features per row");
    put("density", r.last_window_density, "per-feature firing rate over the last sampling window");
  }

  Config c_;
};

}  // namespace othrun::train

OTHRUN_PLUGIN(othrun::train::TrainSae)
