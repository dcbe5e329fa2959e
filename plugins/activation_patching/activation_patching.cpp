// activation_patching: clean games and corrupted twins (one move changed, or chosen game pairs);
// every hook kind asked for is patched from the clean run into the corrupted one per layer x
// position (or per layer x head), and the metric at the pair's metric position is stored with its
// normalised score and heatmaps (docs/interventions.md, "activation_patching").
#include "pairs.hpp"
#include "results.hpp"
#include "sweep.hpp"

#include <othrun/games.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>
#include <othrun/torch/checkpoint.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>

namespace othrun::patching {

namespace {

int parse_square(const std::string& label, const char* key) {
  const auto square = othello::parse_square_label(label);
  if (!square || !othello::is_move_square(*square)) {
    throw ConfigError(key, fmt::format("'{}' is not a square a move can be played on (A0..H7, not "
                                       "the centre D3 D4 E3 E4)",
                                       label));
  }
  return *square;
}

gpt::LoadOptions load_options(const Config& c) {
  gpt::LoadOptions o;
  o.format = gpt::parse_checkpoint_format(c.get_string("format"));
  if (c.has("n_heads")) o.mingpt_n_heads = c.get_int("n_heads");
  o.act_fn =
      c.get_string("act_fn") == "gelu" ? gpt::Activation::GeluErf : gpt::Activation::GeluTanh;
  o.process = {c.get_bool("fold_ln"), c.get_bool("center_writing_weights"),
               c.get_bool("center_unembed"), c.get_bool("fold_value_biases")};
  return o;
}

}  // namespace

class ActivationPatching : public Step {
 public:
  static constexpr const char* kName = "activation_patching";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema s(
        "Activation patching: clean activations patched into corrupted runs, per layer x "
        "position and per layer x head");
    s.input("games", games::kKind, "games", "the games: clean games and the source of twins");
    s.path("model", std::nullopt, "checkpoint: .pth or .safetensors (TransformerLens or minGPT)")
        .existing();
    s.choice("format", {"auto", "transformer_lens", "mingpt"}, "auto", "checkpoint layout");
    s.integer("n_heads", std::nullopt, "heads of a minGPT checkpoint that does not record them")
        .range(1, 1024)
        .optional = true;
    s.choice("act_fn", {"gelu", "gelu_new"}, "gelu", "MLP activation: exact erf GELU or tanh");
    s.flag("fold_ln", true, "fold LayerNorm weights into the next layer (from_pretrained default)");
    s.flag("center_writing_weights", true, "centre weights writing to the residual stream");
    s.flag("center_unembed", true, "centre W_U, b_U over the vocabulary");
    s.flag("fold_value_biases", true, "fold b_V into b_O");
    s.choice("corruption", {"twin", "pairs"}, "twin",
             "twin: each clean game against itself with one move changed; pairs: clean_games[i] "
             "against corrupted_games[i]");
    s.integer("pairs", 100, "twin: number of pairs (games without a usable twin are skipped)")
        .range(1, 1'000'000);
    s.integer("first_game", 0, "twin: the first clean game").range(0, 1e12);
    s.positions("corrupt_plies", "all",
                "twin: plies whose move may be changed, \"first:stop\" (one drawn per pair)");
    s.integers("clean_games", std::vector<std::int64_t>{}, "pairs: the clean games");
    s.integers("corrupted_games", std::vector<std::int64_t>{}, "pairs: their corrupted games");
    s.integer("metric_position", 58,
              "the latest position whose prediction the metric reads; a pair reads the latest "
              "position <= this where its games differ usefully (docs)")
        .range(0, 58);
    s.choice("metric", {"logit_diff", "legal_logprob"}, "logit_diff",
             "logit_diff: logit of a move valid only in the clean game minus one valid only in "
             "the corrupted; legal_logprob: mean log-prob of the clean game's valid moves");
    s.texts(
        "answer_moves", std::vector<std::string>{},
        "logit_diff: two squares [plus, minus] (e.g. [C4, F5]) for every pair; empty: per "
        "pair, the lowest square valid only in the clean (plus) and only in the corrupted game");
    s.texts("patch", std::vector<std::string>{"resid_pre", "head_out"},
            "what is patched: resid_pre, resid_mid, resid_post, attn_out, mlp_out per layer x "
            "position; head_out per layer x head (the head's z at every position)")
        .allow(patch_kinds());
    s.integers("layers", std::vector<std::int64_t>{}, "layers to patch; empty: all");
    s.integer("batch_rows", 100, "patched sequences per forward pass").range(1, 100000);
    s.integer("pairs_per_chunk", 20, "pairs whose clean activations are held at once")
        .range(1, 100000);
    s.flag("skip_unpatched_layers", true,
           "start each patched run at the patched layer from the corrupted run's residual stream "
           "(the same values; false: from the embedding, as run_with_hooks)");
    s.provides("activation_patching");
    for (const DatasetDecl& d : result_datasets({"resid_pre", "head_out"})) s.dataset(d);
    return s;
  }

  static DatasetDecls produces(const Config& c) { return result_datasets(c.get_strings("patch")); }

  static void validate(const Config& c) {
    const bool chosen = c.get_string("corruption") == "pairs";
    const auto& clean = c.get_ints("clean_games");
    const auto& corrupted = c.get_ints("corrupted_games");
    if (chosen && (clean.empty() || clean.size() != corrupted.size())) {
      throw ConfigError("clean_games",
                        fmt::format("corruption: pairs needs clean_games and corrupted_games of "
                                    "the same, non-zero length (got {} and {})",
                                    clean.size(), corrupted.size()));
    }
    if (!chosen && !clean.empty()) {
      throw ConfigError("clean_games",
                        "clean_games is for corruption: pairs (twins use "
                        "first_game and pairs)");
    }
    for (auto v : clean) {
      if (v < 0) throw ConfigError("clean_games", fmt::format("game {} is negative", v));
    }
    for (auto v : corrupted) {
      if (v < 0) throw ConfigError("corrupted_games", fmt::format("game {} is negative", v));
    }
    const auto& answers = c.get_strings("answer_moves");
    if (!answers.empty()) {
      if (answers.size() != 2) {
        throw ConfigError("answer_moves",
                          fmt::format("two squares [plus, minus] or none, got {}", answers.size()));
      }
      if (c.get_string("metric") != "logit_diff") {
        throw ConfigError("answer_moves", "only logit_diff reads answer_moves");
      }
      parse_square(answers[0], "answer_moves");
      parse_square(answers[1], "answer_moves");
    }
    const auto& kinds = c.get_strings("patch");
    if (kinds.empty()) throw ConfigError("patch", "nothing to patch");
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      if (std::find(kinds.begin(), kinds.begin() + static_cast<std::ptrdiff_t>(i), kinds[i]) !=
          kinds.begin() + static_cast<std::ptrdiff_t>(i)) {
        throw ConfigError("patch", fmt::format("'{}' is listed twice", kinds[i]));
      }
    }
    const auto& layers = c.get_ints("layers");
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (layers[i] < 0)
        throw ConfigError("layers", fmt::format("layer {} is negative", layers[i]));
      if (std::find(layers.begin(), layers.begin() + static_cast<std::ptrdiff_t>(i), layers[i]) !=
          layers.begin() + static_cast<std::ptrdiff_t>(i)) {
        throw ConfigError("layers", fmt::format("layer {} is listed twice", layers[i]));
      }
    }
  }

  explicit ActivationPatching(const Config& c)
      : config_(c), model_path_(c.get_path("model")), load_(load_options(c)) {}

  void run(RunContext& ctx) override {
    gpt::set_num_threads(ctx.threads());
    const auto model = gpt::HookedTransformer::from_file(model_path_, load_);
    const games::GamesReader games(ctx.input("games"));
    TwinOptions options = twin_options(model.config(), ctx.seed());
    std::uint64_t read = 0, skipped = 0;
    std::vector<GamePair> pairs;
    if (config_.get_string("corruption") == "twin") {
      TwinResult twins = make_twins(games, options);
      pairs = std::move(twins.pairs);
      read = twins.games_read;
      skipped = twins.games_skipped;
    } else {
      const auto& clean = config_.get_ints("clean_games");
      const auto& corrupted = config_.get_ints("corrupted_games");
      for (std::size_t i = 0; i < clean.size(); ++i) {
        pairs.push_back(make_chosen_pair(games, static_cast<std::uint64_t>(clean[i]),
                                         static_cast<std::uint64_t>(corrupted[i]), options));
      }
    }
    const SweepSpec spec = sweep_spec(model.config(), options.metric);
    log::info(
        "activation_patching: {} pairs ({} games read, {} without a usable twin), patching "
        "{} at layers {}",
        pairs.size(), read, skipped, fmt::join(spec.kinds, ", "), fmt::join(spec.layers, ","));
    Progress progress("activation_patching", pairs.size(), "pairs");
    std::uint64_t done = 0;
    const auto start = std::chrono::steady_clock::now();
    const SweepResult sweep = run_sweep(model, pairs, spec, [&](std::uint64_t n) {
      progress.advance(n - done);
      done = n;
    });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Group& root = ctx.output().root();
    write_results(root, pairs, sweep,
                  {options.metric, spec.kinds, spec.layers, model.config().n_heads});
    auto a = root.attrs();
    a.set("model", model_path_.string());
    a.set("model_config", model.config().to_string());
    a.set("corruption", config_.get_string("corruption"));
    a.set("games_read", static_cast<std::int64_t>(read));
    a.set("games_skipped", static_cast<std::int64_t>(skipped));
    a.set("skip_unpatched_layers", static_cast<std::int64_t>(spec.skip_unpatched_layers));
    a.set("seconds_total", seconds);
    log::info("activation_patching: {} patched runs in {:.2f} s ({:.2f} s in forwards)",
              sweep.patched_runs, seconds, sweep.seconds_forward);
  }

 private:
  TwinOptions twin_options(const gpt::ModelConfig& model, std::uint64_t seed) const {
    TwinOptions o;
    o.pairs = static_cast<std::uint64_t>(config_.get_int("pairs"));
    o.first_game = static_cast<std::uint64_t>(config_.get_int("first_game"));
    const PositionRange plies = config_.get_positions("corrupt_plies");
    o.first_ply = static_cast<int>(plies.begin);
    o.stop_ply = plies.stop < 0 ? othello::kMaxGameLength : static_cast<int>(plies.stop);
    o.n_pos = static_cast<int>(std::min<std::int64_t>(games::kPositions - 1, model.n_ctx));
    o.max_position = static_cast<int>(config_.get_int("metric_position"));
    if (o.max_position >= o.n_pos) {
      throw ConfigError("metric_position",
                        fmt::format("position {} is past the model's {} input positions",
                                    o.max_position, o.n_pos));
    }
    o.metric = config_.get_string("metric") == "logit_diff" ? MetricKind::LogitDiff
                                                            : MetricKind::LegalLogProb;
    const auto& answers = config_.get_strings("answer_moves");
    if (!answers.empty()) {
      o.plus_square = parse_square(answers[0], "answer_moves");
      o.minus_square = parse_square(answers[1], "answer_moves");
    }
    o.seed = seed;
    return o;
  }

  SweepSpec sweep_spec(const gpt::ModelConfig& model, MetricKind metric) const {
    SweepSpec spec;
    spec.kinds = config_.get_strings("patch");
    spec.layers = config_.get_ints("layers");
    if (spec.layers.empty()) {
      for (std::int64_t l = 0; l < model.n_layers; ++l) spec.layers.push_back(l);
    }
    for (std::int64_t layer : spec.layers) {
      if (layer >= model.n_layers) {
        throw ConfigError("layers", fmt::format("layer {} does not exist: the model has {} layers",
                                                layer, model.n_layers));
      }
    }
    spec.metric = metric;
    spec.batch_rows = config_.get_int("batch_rows");
    spec.pairs_per_chunk = static_cast<std::uint64_t>(config_.get_int("pairs_per_chunk"));
    spec.skip_unpatched_layers = config_.get_bool("skip_unpatched_layers");
    return spec;
  }

  Config config_;
  std::filesystem::path model_path_;
  gpt::LoadOptions load_;
};

}  // namespace othrun::patching

OTHRUN_PLUGIN(othrun::patching::ActivationPatching)
