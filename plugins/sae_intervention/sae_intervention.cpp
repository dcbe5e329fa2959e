// sae_intervention: ablates (zeroes) or steers (sets, scales) SAE features inside the model, one
// feature at a time, spliced as reconstruction + error so that everything else stays exact
// (docs/interventions.md, "sae_intervention"). Features are listed, or the top features of chosen
// squares in a sae_correlation product. Measures the change of every move's log-prob and of the
// linear probe's reading of every square downstream.
#include "effects.hpp"

#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/games.hpp>
#include <othrun/hooks.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>

namespace {

using namespace othrun;
using namespace othrun::sae_intervention;

constexpr const char* kStateNames[3] = {"empty", "theirs", "mine"};

class SaeIntervention : public Step {
 public:
  static constexpr const char* kName = "sae_intervention";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema s(
        "Ablates or steers SAE features inside the model: change of every move's log-prob "
        "and of the probe's reading downstream, per feature");
    s.input("games", games::kKind, "games", "the games the model runs on");
    s.path("model", std::nullopt, "Othello-GPT checkpoint (processed as inference's defaults)")
        .existing();
    s.path("sae", std::nullopt, "SAE file (sae_training) or SAELens folder").existing();
    s.hook("hook", std::nullopt, "hook the SAE is spliced at (default: the one its cfg names)")
        .optional = true;
    s.flag("and_later_layers", false, "splice it at the same hook of every later layer too");
    s.integers("features", std::vector<std::int64_t>{}, "features to edit, one run each");
    s.input("correlation", "sae_correlation", std::nullopt,
            "a sae_correlation product of this SAE: edit the top features of `squares`")
        .optional = true;
    s.texts("squares", std::vector<std::string>{}, "squares (\"D3\") whose top features to edit");
    s.choice("state", {"empty", "theirs", "mine"}, "mine", "the squares' state the ranking uses");
    s.choice("rank_by", {"firing_corr", "act_corr", "f1", "auroc"}, "firing_corr",
             "the correlation dataset that ranks the features");
    s.integer("top_features", 2, "features per square").range(1, 1000);
    s.choice("op", {"ablate", "scale", "set"}, "ablate",
             "ablate: the feature -> 0; scale: times `value`; set: -> `value` (steering)");
    s.real("value", 0.0, "the factor (scale) or the activation (set)");
    s.positions("positions", "all", "model positions edited and measured");
    s.integer("max_games", 100, "run the first max_games games; 0: all").range(0, 1e12);
    s.path("probe", "", "full linear probe .pth for the downstream reading (empty: none)")
        .existing();
    s.hook("probe_hook", "blocks.6.hook_resid_post", "where the probe reads (at or after `hook`)");
    s.integer("batch_games", 50, "games per forward pass").range(1, 100000);
    s.provides("sae_intervention");
    s.dataset("features/index", DType::Int64, "feature", "edited features");
    s.dataset("features/square", DType::Int64, "feature", "square it was chosen for (-1: listed)");
    s.dataset("features/state", DType::Int64, "feature", "state it was chosen for");
    s.dataset("features/score", DType::Float64, "feature", "its correlation score");
    s.dataset("rows", DType::Int64, "feature,set", "rows averaged (set 0 all, 1 fired)");
    s.dataset("logprob_change", DType::Float64, "feature,set,row,col", "mean log-prob change");
    s.dataset("probe_change", DType::Float64, "feature,set,row,col,class",
              "with a probe: mean change of the probe's class probabilities");
    s.dataset("probe_flips", DType::Float64, "feature,set,row,col",
              "with a probe: fraction of rows whose probe argmax changed");
    return s;
  }

  // Without a probe there is no probe reading to store.
  static DatasetDecls produces(const Config& c) {
    DatasetDecls out;
    const Schema schema = describe();
    for (const DatasetDecl& d : schema.datasets()) {
      if (c.get_string("probe").empty() && d.name.rfind("probe_", 0) == 0) continue;
      out.push_back(d);
    }
    return out;
  }

  static void validate(const Config& c) {
    const bool listed = !c.get_ints("features").empty(), ranked = c.has("correlation");
    if (listed == ranked)
      throw ConfigError(listed ? "correlation" : "features",
                        "give either `features` or `correlation` with `squares`, not both");
    if (ranked && c.get_strings("squares").empty())
      throw ConfigError("squares", "`correlation` needs the squares whose top features to edit");
    for (const std::string& sq : c.get_strings("squares")) {
      if (!othello::parse_square_label(sq))
        throw ConfigError("squares", fmt::format("'{}' is no square (A0..H7)", sq));
    }
    for (std::int64_t f : c.get_ints("features"))
      if (f < 0) throw ConfigError("features", fmt::format("feature {} is negative", f));
    if (c.get_string("op") == "ablate" && c.get_float("value") != 0)
      throw ConfigError("value", "ablate sets the feature to 0: use op: set to give a value");
  }

  explicit SaeIntervention(const Config& c)
      : model_path_(c.get_path("model")),
        sae_path_(c.get_path("sae")),
        hook_(c.has("hook") ? c.get_string("hook") : ""),
        later_(c.get_bool("and_later_layers")),
        listed_(c.get_ints("features")),
        ranked_(c.has("correlation")),
        squares_(c.get_strings("squares")),
        state_(c.get_string("state")),
        rank_by_(c.get_string("rank_by")),
        top_(c.get_int("top_features")),
        op_(c.get_string("op")),
        value_(c.get_float("value")),
        positions_(c.get_positions("positions")),
        max_games_(static_cast<std::uint64_t>(c.get_int("max_games"))),
        probe_path_(c.get_string("probe").empty() ? std::filesystem::path() : c.get_path("probe")),
        probe_hook_(c.get_string("probe_hook")),
        batch_(static_cast<std::uint64_t>(c.get_int("batch_games"))) {}

  void run(RunContext& ctx) override {
    auto sae = std::make_shared<analysis::Sae>(analysis::load_sae(sae_path_));
    const std::string hook = hook_.empty() ? sae->hook_name : hook_;
    if (hook.empty())
      throw ConfigError("hook", fmt::format("{} names no hook: give `hook`", sae_path_.string()));
    gpt::set_num_threads(ctx.threads());  // --threads: LibTorch's share of the cores
    const auto model = gpt::HookedTransformer::from_file(model_path_, {});
    const gpt::ModelConfig& mc = model.config();
    const std::string full_hook = resolve_hook(hook, mc.n_layers);
    std::optional<analysis::Probe> probe;
    if (!probe_path_.empty()) {
      probe = analysis::load_probe(probe_path_, false);
      if (probe->d_model != mc.d_model)
        throw DataError(fmt::format("{}: the probe's d_model is {}, the model's {}",
                                    probe_path_.string(), probe->d_model, mc.d_model));
      check_downstream(full_hook, mc.n_layers);
    }
    std::vector<Chosen> chosen =
        ranked_ ? top_features(ctx.input("correlation"), sae->d_sae) : listed_features(sae->d_sae);
    const games::GamesReader reader(ctx.input("games"));
    const std::uint64_t n_games =
        max_games_ == 0 ? reader.size() : std::min(max_games_, reader.size());
    const std::int64_t n_pos = std::min<std::int64_t>(games::kPositions - 1, mc.n_ctx);
    const std::int64_t stop = positions_.stop < 0 ? n_pos : std::min(positions_.stop, n_pos);
    if (positions_.begin >= stop)
      throw ConfigError("positions", fmt::format("{} holds none of the model's {} positions",
                                                 positions_.to_string(), n_pos));
    std::vector<std::int64_t> edited_positions(static_cast<std::size_t>(stop - positions_.begin));
    std::iota(edited_positions.begin(), edited_positions.end(), positions_.begin);

    Effects effects(chosen, probe.has_value());
    Progress progress("sae_intervention", n_games, "games");
    for (std::uint64_t first = 0; first < n_games; first += batch_) {
      const std::uint64_t count = std::min(batch_, n_games - first);
      run_batch(model, sae, full_hook, probe ? &*probe : nullptr, reader.read(first, count), stop,
                edited_positions, effects);
      progress.advance(count);
    }
    Group& root = ctx.output().root();
    const std::string what = fmt::format(
        "Feature {} of the SAE at {}{} at positions {}..{} of {} games, one feature per run{}.",
        op_ == "ablate"  ? "set to 0"
        : op_ == "scale" ? fmt::format("scaled by {}", value_)
                         : fmt::format("set to {}", value_),
        full_hook, later_ ? " and every later layer" : "", positions_.begin, stop - 1, n_games,
        probe ? "; probe read at " + probe_hook_ : "");
    effects.write(root, what);
    root.attrs().set("hook", full_hook);
    root.attrs().set("and_later_layers", static_cast<std::int64_t>(later_));
    root.attrs().set("op", op_);
    root.attrs().set("value", value_);
    root.attrs().set("sae", sae_path_.string());
    root.attrs().set("model", model_path_.string());
    root.attrs().set("games", static_cast<std::int64_t>(n_games));
    root.attrs().set("positions_start", positions_.begin);
    root.attrs().set("positions_stop", stop);
    if (probe) {
      root.attrs().set("probe", probe_path_.string());
      root.attrs().set("probe_hook", probe_hook_);
    }
    root.attrs().set("mine_theirs", "real");
  }

 private:
  // The probe must read at or after the spliced hook, or the edit cannot reach it.
  void check_downstream(const std::string& hook, std::int64_t n_layers) const {
    const auto names = all_hook_names(n_layers);
    const std::string probe_hook = resolve_hook(probe_hook_, n_layers);
    const auto at = [&](const std::string& h) { return std::find(names.begin(), names.end(), h); };
    if (at(probe_hook) < at(hook))
      throw ConfigError("probe_hook", fmt::format("{} comes before the edited hook {}: the edit "
                                                  "cannot change it",
                                                  probe_hook, hook));
  }

  std::vector<Chosen> listed_features(std::int64_t d_sae) const {
    std::vector<Chosen> out;
    for (std::int64_t f : listed_) {
      if (f >= d_sae)
        throw ConfigError("features", fmt::format("feature {} does not exist: {} has {} features",
                                                  f, sae_path_.filename().string(), d_sae));
      out.push_back({f, -1, -1, std::nan("")});
    }
    return out;
  }

  std::vector<Chosen> top_features(const Product& corr, std::int64_t d_sae) const {
    const Group& root = corr.root();
    if (root.attrs().has("notebook_compat") && root.attrs().get_int("notebook_compat") != 0)
      throw DataError(
          fmt::format("sae_correlation product '{}' was made with notebook_compat "
                      "(black/white states): rank features from a mine/theirs run",
                      corr.label()));
    const Dataset scores_ds = root.dataset(rank_by_);
    const auto shape = scores_ds.shape();
    if (shape.size() != 3 || shape[1] != 64 || shape[2] != 3 ||
        static_cast<std::int64_t>(shape[0]) != d_sae)
      throw DataError(
          fmt::format("product '{}', dataset {}: expected [{}, 64, 3] (this SAE's "
                      "features), got {} axes of [{}]",
                      corr.label(), rank_by_, d_sae, shape.size(), fmt::join(shape, ", ")));
    const std::vector<float> scores = scores_ds.read_all<float>();
    const int state =
        static_cast<int>(std::find(std::begin(kStateNames), std::end(kStateNames), state_) -
                         std::begin(kStateNames));
    std::vector<Chosen> out;
    for (const std::string& label : squares_) {
      const int square = *othello::parse_square_label(label);
      std::vector<std::int64_t> order(static_cast<std::size_t>(d_sae));
      std::iota(order.begin(), order.end(), 0);
      auto score = [&](std::int64_t f) {
        const float v =
            scores[(static_cast<std::size_t>(f) * 64 + static_cast<std::size_t>(square)) * 3 +
                   static_cast<std::size_t>(state)];
        return std::isnan(v) ? -std::numeric_limits<float>::infinity() : v;
      };
      std::stable_sort(order.begin(), order.end(),
                       [&](std::int64_t a, std::int64_t b) { return score(a) > score(b); });
      for (std::int64_t i = 0; i < std::min<std::int64_t>(top_, d_sae); ++i) {
        const std::int64_t f = order[static_cast<std::size_t>(i)];
        const bool seen =
            std::any_of(out.begin(), out.end(), [&](const Chosen& c) { return c.feature == f; });
        if (!seen) out.push_back({f, square, state, double{score(f)}});
      }
    }
    return out;
  }

  gpt::FeatureEdit feature_edit(std::int64_t feature) const {
    if (op_ == "scale") return {feature, gpt::FeatureEdit::Op::Scale, value_};
    return {feature, gpt::FeatureEdit::Op::Set, op_ == "set" ? value_ : 0.0};
  }

  // Softmax over the 3 classes of every square: [rows, 64, 3] scores -> probabilities.
  static std::vector<float> probe_probs(const analysis::Probe& probe, const float* x,
                                        std::int64_t rows) {
    std::vector<float> s(static_cast<std::size_t>(rows) * 192);
    analysis::probe_scores(probe, x, rows, s.data());
    for (std::size_t i = 0; i < s.size(); i += 3) {
      const float m = std::max({s[i], s[i + 1], s[i + 2]});
      const double e0 = std::exp(s[i] - m), e1 = std::exp(s[i + 1] - m),
                   e2 = std::exp(s[i + 2] - m);
      const double z = e0 + e1 + e2;
      s[i] = static_cast<float>(e0 / z), s[i + 1] = static_cast<float>(e1 / z),
      s[i + 2] = static_cast<float>(e2 / z);
    }
    return s;
  }

  void run_batch(const gpt::HookedTransformer& model, const std::shared_ptr<analysis::Sae>& sae,
                 const std::string& hook, const analysis::Probe* probe,
                 const games::GameBatch& batch, std::int64_t n_pos,
                 const std::vector<std::int64_t>& positions, Effects& effects) const {
    const auto b = static_cast<std::int64_t>(batch.count);
    std::vector<std::int64_t> tokens(static_cast<std::size_t>(b * n_pos));
    for (std::int64_t g = 0; g < b; ++g)
      for (std::int64_t t = 0; t < n_pos; ++t)
        tokens[static_cast<std::size_t>(g * n_pos + t)] = batch.tokens[games::GameBatch::index(
            static_cast<std::uint64_t>(g), static_cast<int>(t))];
    const HostTensor input = HostTensor::from_values<std::int64_t>({b, n_pos}, tokens);
    gpt::RunRequest request;
    request.logits = gpt::LogitsOutput::LogProbs;
    request.hooks = {hook};
    const std::string probe_hook = probe ? resolve_hook(probe_hook_, model.config().n_layers) : "";
    if (probe) request.hooks.insert(probe_hook);
    const gpt::Cache clean = model.run(input, request);
    // Clean feature activations at the hook, [b * n_pos, d_sae].
    const std::int64_t rows = b * n_pos;
    std::vector<float> acts(static_cast<std::size_t>(rows * sae->d_sae));
    sae->encode(clean.at(hook).data_as<float>(), rows, acts.data());
    std::vector<float> clean_probe;
    if (probe) clean_probe = probe_probs(*probe, clean.at(probe_hook).data_as<float>(), rows);

    for (std::size_t i = 0; i < effects.chosen().size(); ++i) {
      const std::int64_t feature = effects.chosen()[i].feature;
      gpt::Edit edit = gpt::Edit::sae_features(hook, sae, {feature_edit(feature)},
                                               gpt::Positions::at(positions));
      edit.and_later_layers = later_;
      gpt::RunRequest edited_request = request;
      edited_request.hooks.erase(hook);
      edited_request.edits = {edit};
      const gpt::Cache edited = model.run(input, edited_request);
      std::vector<float> edited_probe;
      if (probe) edited_probe = probe_probs(*probe, edited.at(probe_hook).data_as<float>(), rows);
      const float* clean_lp = clean.at("log_probs").data_as<float>();
      const float* edited_lp = edited.at("log_probs").data_as<float>();
      for (std::int64_t g = 0; g < b; ++g) {
        for (std::int64_t t : positions) {
          if (t >= batch.length(static_cast<std::uint64_t>(g))) continue;  // after the game's end
          const auto r = static_cast<std::size_t>(g * n_pos + t);
          const bool fired =
              acts[r * static_cast<std::size_t>(sae->d_sae) + static_cast<std::size_t>(feature)] >
              0;
          effects.add(i, clean_lp + r * 61, edited_lp + r * 61,
                      probe ? &clean_probe[r * 192] : nullptr,
                      probe ? &edited_probe[r * 192] : nullptr, fired);
        }
      }
    }
  }

  std::filesystem::path model_path_, sae_path_;
  std::string hook_;
  bool later_;
  std::vector<std::int64_t> listed_;
  bool ranked_;
  std::vector<std::string> squares_;
  std::string state_, rank_by_;
  std::int64_t top_;
  std::string op_;
  double value_;
  PositionRange positions_;
  std::uint64_t max_games_;
  std::filesystem::path probe_path_;
  std::string probe_hook_;
  std::uint64_t batch_;
};

}  // namespace

OTHRUN_PLUGIN(SaeIntervention)
