// dashboard: a browsable view of every unit (SAE feature, neuron of a cached hook, or probe
// direction): activation density and histogram by quantile group, top and lower-quantile examples
// drawn as boards with the model's next-move distribution and the unit's activation over the game,
// the board states it goes with, its cosine with the probe directions and its direct effect on the
// move logits; and an index of all units (docs/dashboards.md). The numbers are also stored in the
// product, so h5py reads what the pages show.
#include "ablations.hpp"
#include "directions.hpp"
#include "pages.hpp"
#include "product.hpp"
#include "unit_source.hpp"
#include "unit_summary.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/games.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <thread>

namespace {

using namespace othrun;
using namespace othrun::dashboard;
namespace fs = std::filesystem;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool residual_hook(const std::string& hook) {
  for (const char* end : {".hook_resid_pre", ".hook_resid_mid", ".hook_resid_post",
                          ".hook_attn_out", ".hook_mlp_out"})
    if (hook.ends_with(end)) return true;
  return false;
}

// Whether the units have a residual-stream direction under this config (see directions.hpp).
bool has_direction(const Config& c) {
  const std::string kind = c.get_string("unit");
  if (kind == "feature") return !c.get_string("sae").empty();
  if (kind == "probe") return true;
  if (!c.has("activations")) return false;
  const std::string hook = c.input_dataset("activations");
  if (residual_hook(hook)) return true;
  return hook.ends_with(".mlp.hook_post") && !c.get_string("model").empty();
}
DatasetDecl decl(std::string name, DType dtype, std::string axes, std::string doc) {
  return DatasetDecl{std::move(name), dtype, std::move(axes), std::move(doc), "", std::nullopt};
}

bool has_effect(const Config& c) { return has_direction(c) && !c.get_string("model").empty(); }
bool has_cosines(const Config& c) { return has_direction(c) && !c.get_string("probe").empty(); }

// Per row (game, cached position t): a 64-bit hash of the game's moves 0..t (FNV-1a over the
// tokens, then a final mix), equal for rows that are the same model input.
std::vector<std::uint64_t> prefix_hashes(const games::GameBatch& batch,
                                         const analysis::PositionSpan& span) {
  std::vector<std::uint64_t> out;
  out.reserve(static_cast<std::size_t>(batch.count * static_cast<std::uint64_t>(span.count)));
  for (std::uint64_t g = 0; g < batch.count; ++g) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    std::vector<std::uint64_t> at(games::kPositions);
    for (int t = 0; t < games::kPositions; ++t) {
      h = (h ^ static_cast<std::uint8_t>(batch.tokens[games::GameBatch::index(g, t)])) *
          0x100000001b3ull;
      std::uint64_t z = h + 0x9e3779b97f4a7c15ull;  // splitmix64 finaliser
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      at[static_cast<std::size_t>(t)] = z ^ (z >> 31);
    }
    for (std::int64_t j = 0; j < span.count; ++j)
      out.push_back(at[static_cast<std::size_t>(span.position(j))]);
  }
  return out;
}

// Refuses `product` unless it was made from `input` (its othrun.inputs name input's product id):
// statistics of other features, or outputs of other games, would be silently wrong.
void require_made_from(const Product& product, const Product& input, const std::string& role) {
  const Attributes in = input.root().attrs();
  const std::string id = in.get_string("othrun.label") + ":" + in.get_string("othrun.product_id");
  const Attributes a = product.root().attrs();
  const auto inputs =
      a.has("othrun.inputs") ? a.get_strings("othrun.inputs") : std::vector<std::string>{};
  if (std::find(inputs.begin(), inputs.end(), id) == inputs.end())
    throw DataError(
        fmt::format("product '{}' ({}) was not made from this run's '{}' (its inputs: "
                    "{}): rerun it, or name the matching product",
                    product.label(), role, input.label(), fmt::join(inputs, ", ")));
}

class Dashboard : public Step {
 public:
  static constexpr const char* kName = "dashboard";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema(
        "Feature / neuron / probe-direction dashboards: an HTML view per unit and an index");
    schema.input("games", games::kKind, "games", "the games (true boards, moves played)");
    schema.choice("unit", {"feature", "neuron", "probe"}, "feature",
                  "SAE features (features), neurons of a cached hook (activations), or the 64 "
                  "per-square probe directions projected on a cached hook (activations, probe)");
    schema.input("features", "features", std::nullopt, "an sae_encode product (unit: feature)")
        .optional = true;
    schema
        .input("activations", "activations", std::nullopt,
               "the cached hook, LABEL:HOOK, e.g. cache:blocks.0.mlp.hook_post (neuron, probe)")
        .hook_dataset()
        .optional = true;
    schema
        .input("logits", "activations", std::nullopt,
               "the model's stored next-move outputs, LABEL:log_probs or LABEL:logits (inference "
               "with `logits:`), drawn beside each example; absent: the pages say so")
        .any_dataset(DatasetPart::Required)
        .optional = true;
    schema
        .input("correlation", "sae_correlation", std::nullopt,
               "a sae_correlation product of the same features: its board-state statistics are "
               "shown (else they are computed here)")
        .optional = true;
    schema
        .input("intervention", "sae_intervention", std::nullopt,
               "a sae_intervention product that edited features of the same SAE: each edited "
               "feature's effect on the move log-probs (and the probe) is shown")
        .optional = true;
    schema.path("sae", "", "the SAE the features came from: decoder rows for cosines and effects")
        .existing();
    schema.path("model", "", "the model checkpoint: W_U, ln_final, W_out (direct effect on logits)")
        .existing();
    schema.path("probe", "", "full probe .pth [3, d_model, 8, 8, 3]: cosines (and unit: probe)")
        .existing();
    schema.choice("probe_direction", {"blank", "mine"}, "mine",
                  "unit probe: blank_dir or mine_dir");
    schema.flag("probe_normalise", false, "unit-norm probe directions per square");
    schema.choice("mine_theirs", {"real", "parity"}, "real",
                  "whose discs are 'mine' in the board states (as sae_correlation)");
    schema.integer("top_examples", 10, "top activating examples per unit").range(1, 100);
    schema.integer("quantile_groups", 4, "equal-count groups of the active values").range(1, 20);
    schema.integer("group_examples", 3, "random examples per quantile group").range(0, 50);
    schema.integer("bins", 40, "activation histogram bins").range(2, 1000);
    schema.integer("top_states", 5, "board states listed per unit").range(1, 192);
    schema.integer("chunk_games", 256, "games per read").range(1, 1000000);
    schema.integer("block_mb", 256, "memory for one block of units' values, MB").range(1, 100000);
    schema.provides("dashboard");
    for (const auto& d : produces_for(true, true)) schema.dataset(d);
    return schema;
  }

  static DatasetDecls produces(const Config& c) {
    return produces_for(has_effect(c), has_cosines(c));
  }

  static void validate(const Config& c) {
    const std::string kind = c.get_string("unit");
    if (kind == "feature" && !c.has("features"))
      throw ConfigError("features", "unit 'feature' needs `features:` (an sae_encode product)");
    if (kind != "feature" && !c.has("activations"))
      throw ConfigError("activations", "unit '" + kind + "' needs `activations: LABEL:HOOK`");
    if (kind == "probe" && c.get_string("probe").empty())
      throw ConfigError("probe", "unit 'probe' needs `probe:` (the probe file)");
    if (kind != "feature" && c.has("correlation"))
      throw ConfigError("correlation", "a sae_correlation product describes SAE features; unit '" +
                                           kind + "' computes its board-state statistics itself");
    if (kind != "feature" && c.has("intervention"))
      throw ConfigError("intervention", "a sae_intervention product edits SAE features; unit '" +
                                            kind + "' has none");
    if (kind != "feature" && !c.get_string("sae").empty())
      throw ConfigError("sae", "`sae:` is for unit 'feature'");
    if (c.has("logits")) {
      const std::string d = c.input_dataset("logits");
      if (d != "log_probs" && d != "logits")
        throw ConfigError(
            "logits", "name the stored outputs, LABEL:log_probs or LABEL:logits, not '" + d + "'");
    }
  }

  explicit Dashboard(const Config& c) : config_(c) {
    options_.top_examples = static_cast<int>(c.get_int("top_examples"));
    options_.groups = static_cast<int>(c.get_int("quantile_groups"));
    options_.group_examples = static_cast<int>(c.get_int("group_examples"));
    options_.bins = static_cast<int>(c.get_int("bins"));
    options_.top_states = static_cast<int>(c.get_int("top_states"));
  }

  void run(RunContext& ctx) override;

 private:
  static DatasetDecls produces_for(bool effect, bool cosines) {
    DatasetDecls d = {
        decl("units/density", DType::Float64, "unit", "rows where the unit is > 0 / rows"),
        decl("units/mean", DType::Float64, "unit", "mean value over the rows"),
        decl("units/min", DType::Float32, "unit", "smallest value"),
        decl("units/max", DType::Float32, "unit", "largest value"),
        decl("units/active", DType::Int64, "unit", "rows where the unit is > 0"),
        decl("units/rows", DType::Int64, "unit", "rows (game, position) that exist"),
        decl("histogram/edges", DType::Float64, "unit,edge", "bins over the non-zero values"),
        decl("histogram/counts", DType::Int64, "unit,bin", "non-zero values per bin"),
        decl("groups/bounds", DType::Float32, "unit,group_edge",
             "first value of each equal-count group of the active values, then the max"),
        decl("examples/game", DType::Int64, "unit,example", "game of each example (-1: none)"),
        decl("examples/position", DType::Int64, "unit,example", "model position t"),
        decl("examples/value", DType::Float32, "unit,example", "the unit's value there"),
        decl("examples/group", DType::Int64, "unit,example", "-1 top example, else quantile group"),
        decl("states/square", DType::Int64, "unit,rank", "square of the k-th best board state"),
        decl("states/state", DType::Int64, "unit,rank", "0 empty, 1 theirs, 2 mine"),
        decl("states/firing_corr", DType::Float32, "unit,rank", "Pearson(fired, square in state)"),
        decl("states/act_corr", DType::Float32, "unit,rank", "Pearson(value, square in state)"),
        decl("states/f1", DType::Float32, "unit,rank", "F1 of fired predicting the state"),
        decl("states/auroc", DType::Float32, "unit,rank", "AUROC of the value as a score"),
    };
    if (effect)
      d.push_back(decl("direct_effect", DType::Float32, "unit,square",
                       "direction through ln_final.w and W_U, centred over the 60 moves"));
    if (cosines) {
      d.push_back(decl("cosine/blank", DType::Float32, "unit,square", "cosine with blank_dir"));
      d.push_back(decl("cosine/mine", DType::Float32, "unit,square", "cosine with mine_dir"));
    }
    return d;
  }

  UnitSource open_source(RunContext& ctx);
  std::optional<std::vector<float>> external_states(RunContext& ctx, const UnitSource& source,
                                                    std::string& what);
  void summarize_block(const std::vector<float>& block, std::int64_t first, std::int64_t count,
                       const RowTable& table, const std::vector<float>* external,
                       std::uint64_t seed, int threads);
  void describe_examples(const UnitSource& source, const games::GameBatch& batch,
                         const RowTable& table, const std::vector<float>& block, std::int64_t first,
                         std::int64_t count);
  void add_probabilities(RunContext& ctx, const UnitSource& source, DashboardMeta& meta);

  Config config_;
  SummaryOptions options_;
  UnitKind source_kind_ = UnitKind::Feature;
  std::vector<UnitView> views_;
  std::map<std::int64_t, AblationView> ablations_;  // by feature
  std::uint64_t chunk_games() const {
    return static_cast<std::uint64_t>(config_.get_int("chunk_games"));
  }
};

UnitSource Dashboard::open_source(RunContext& ctx) {
  const std::string kind = config_.get_string("unit");
  if (kind == "feature") return UnitSource::features(ctx.input("features"));
  const std::string hook = config_.input_dataset("activations");
  if (kind == "neuron") return UnitSource::neurons(ctx.input("activations"), hook);
  return UnitSource::probe(
      ctx.input("activations"), hook,
      analysis::load_probe(config_.get_path("probe"), config_.get_bool("probe_normalise")),
      config_.get_string("probe_direction"));
}

// The sae_correlation product's statistics, [units, 192] x 4 (firing, act, f1, auroc), checked
// to describe these features in the same frame.
std::optional<std::vector<float>> Dashboard::external_states(RunContext& ctx,
                                                             const UnitSource& source,
                                                             std::string& what) {
  if (!config_.has("correlation")) return std::nullopt;
  const Product& corr = ctx.input("correlation");
  require_made_from(corr, ctx.input("features"), "`correlation:`");
  const Attributes a = corr.root().attrs();
  const std::string where = "sae_correlation product '" + corr.label() + "'";
  if (a.get_int("notebook_compat") != 0)
    throw DataError(where +
                    " was made with notebook_compat: true (black/white states, the "
                    "notebook's quantities); give one made without it");
  if (a.get_string("mine_theirs") != config_.get_string("mine_theirs"))
    throw DataError(where + " uses mine_theirs: " + a.get_string("mine_theirs") + ", this step " +
                    config_.get_string("mine_theirs") + ": make them agree");
  if (a.get_int("d_sae") != source.units())
    throw DataError(fmt::format("{} describes {} features, the features input has {}", where,
                                a.get_int("d_sae"), source.units()));
  const auto n = static_cast<std::size_t>(source.units()) * kStateColumns;
  std::vector<float> all;
  for (const char* name : {"firing_corr", "act_corr", "f1", "auroc"}) {
    const auto v = corr.root().dataset(name).read_all<float>();
    if (v.size() != n)
      throw DataError(fmt::format("{}: dataset '{}' holds {} values, expected {} x 192", where,
                                  name, v.size(), source.units()));
    all.insert(all.end(), v.begin(), v.end());
  }
  what = "sae_correlation product '" + corr.label() +
         "' (fired = value > 0; AUROC binned, within its auroc_tie_bound)";
  return all;
}

// Summaries of units [first, first + count) from their values `block`, on `threads` threads.
void Dashboard::summarize_block(const std::vector<float>& block, std::int64_t first,
                                std::int64_t count, const RowTable& table,
                                const std::vector<float>* external, std::uint64_t seed,
                                int threads) {
  const std::size_t rows = table.keep.size();
  const std::size_t per_state = views_.size() * kStateColumns;
  // Dense units' state sums by matrix products; sparse features' by their non-zero values.
  std::vector<StateSums> dense;
  if (!external && source_kind_ != UnitKind::Feature) dense = block_state_sums(block, count, table);
  auto work = [&](int t) {
    for (std::int64_t u = t; u < count; u += threads) {
      const std::int64_t unit = first + u;
      const std::span<const float> values(block.data() + static_cast<std::size_t>(u) * rows, rows);
      StateStats stats;
      if (external) {
        std::vector<float>* fields[] = {&stats.firing_corr, &stats.act_corr, &stats.f1,
                                        &stats.auroc};
        for (std::size_t k = 0; k < 4; ++k) {
          const float* at =
              external->data() + k * per_state + static_cast<std::size_t>(unit) * kStateColumns;
          fields[k]->assign(at, at + kStateColumns);
        }
      } else {
        stats = state_stats(
            dense.empty() ? state_sums(values, table) : dense[static_cast<std::size_t>(u)], table);
      }
      views_[static_cast<std::size_t>(unit)].summary = summarize(
          values, table, options_, seed + static_cast<std::uint64_t>(unit) * 0x9E3779B97F4A7C15ull,
          stats, external == nullptr);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
}

// Boards, moves and sparklines of the examples of units [first, first + count).
void Dashboard::describe_examples(const UnitSource& source, const games::GameBatch& batch,
                                  const RowTable& table, const std::vector<float>& block,
                                  std::int64_t first, std::int64_t count) {
  const auto positions = static_cast<std::size_t>(source.span().count);
  const std::size_t rows = table.keep.size();
  std::array<std::int8_t, 64> board{};
  for (std::int64_t u = 0; u < count; ++u) {
    UnitView& view = views_[static_cast<std::size_t>(first + u)];
    view.index = first + u;
    view.name = source.unit_name(first + u);
    const float* values = block.data() + static_cast<std::size_t>(u) * rows;
    for (const Example& ex : view.summary.examples) {
      const analysis::RowId at = analysis::row_id(source.span(), 0, ex.row);
      const int t = static_cast<int>(at.position);
      ExampleView e;
      e.example = ex;
      e.game = at.game;
      e.position = at.position;
      batch.board(at.game, t, games::Frame::BlackWhite, board);
      e.board.resize(64);
      for (std::size_t s = 0; s < 64; ++s)
        e.board[s] = board[s] > 0 ? 'b' : board[s] < 0 ? 'w' : '.';
      const std::size_t i = games::GameBatch::index(at.game, t);
      e.move = batch.squares[i];
      e.mover = batch.mover[i];
      e.to_move = batch.to_move[i];
      const std::size_t row0 = static_cast<std::size_t>(at.game) * positions;
      e.spark.resize(positions);
      for (std::size_t j = 0; j < positions; ++j)
        e.spark[j] = table.keep[row0 + j] ? values[row0 + j] : kNaN;
      view.examples.push_back(std::move(e));
    }
  }
}

// The model's next-move distribution at each example, from the stored log-probs or logits.
void Dashboard::add_probabilities(RunContext& ctx, const UnitSource& source, DashboardMeta& meta) {
  if (!config_.has("logits")) {
    meta.probs_note =
        "no next-move distribution: give `logits: LABEL:log_probs` (an inference step run with "
        "`logits: log_probs` or `logits: logits` on these games)";
    return;
  }
  const std::string name = config_.input_dataset("logits");
  const Product& product = ctx.input("logits");
  require_made_from(product, ctx.input("games"), "`logits:`");
  const analysis::ActivationReader reader(product, name);
  if (reader.games() != source.games())
    throw DataError(
        fmt::format("product '{}' holds {} of '{}' for {} games, the units {} games: "
                    "they must come from the same games",
                    product.label(), name, name, reader.games(), source.games()));
  if (reader.width() != othello::kNumTokens + 1)
    throw DataError(fmt::format("product '{}': '{}' has {} values per position, expected 61",
                                product.label(), name, reader.width()));
  std::map<std::uint64_t, std::vector<ExampleView*>> wanted;
  std::size_t outside = 0;
  for (UnitView& v : views_)
    for (ExampleView& e : v.examples) {
      if (reader.span().contains(e.position)) {
        wanted[e.game].push_back(&e);
      } else {
        ++outside;
      }
    }
  const std::uint64_t chunk = chunk_games();
  const auto width = static_cast<std::size_t>(reader.width());
  auto it = wanted.begin();
  while (it != wanted.end()) {
    const std::uint64_t g0 = it->first - it->first % chunk;
    const std::uint64_t n = std::min(chunk, reader.games() - g0);
    const std::vector<float> x = reader.read(g0, n);
    for (; it != wanted.end() && it->first < g0 + n; ++it) {
      for (ExampleView* e : it->second) {
        const std::size_t row = static_cast<std::size_t>(it->first - g0) *
                                    static_cast<std::size_t>(reader.span().count) +
                                static_cast<std::size_t>(e->position - reader.span().first);
        const float* out = x.data() + row * width;
        // Probabilities: exp of the log-probs, or the softmax of the logits (shifted by the max).
        std::vector<double> p(width);
        const double shift = name == "logits" ? *std::max_element(out, out + width) : 0.0;
        double total = 0;
        for (std::size_t k = 0; k < width; ++k) total += p[k] = std::exp(out[k] - shift);
        if (name == "logits")
          for (double& q : p) q /= total;
        e->probs.assign(64, kNaN);
        for (int token = 1; token <= othello::kNumTokens; ++token)
          e->probs[static_cast<std::size_t>(othello::token_to_square(token))] =
              static_cast<float>(p[static_cast<std::size_t>(token)]);
      }
    }
    check_interrupt();
  }
  meta.probs_source = fmt::format("{} of product '{}'{}", name, product.label(),
                                  name == "logits" ? " (softmax)" : " (exp)");
  if (outside)
    meta.probs_note = fmt::format(
        "{} examples lie at positions '{}' does not hold ({}): drawn "
        "without a distribution",
        outside, product.label(), reader.span().to_string());
}

void Dashboard::run(RunContext& ctx) {
  const UnitSource source = open_source(ctx);
  source_kind_ = source.kind();
  if (source.kind() != UnitKind::Feature)
    require_made_from(ctx.input("activations"), ctx.input("games"), "`activations:`");
  const games::GamesReader games(ctx.input("games"));
  analysis::check_alignment(source.games(), games.size(), source.span(), "dashboard");
  const games::GameBatch batch = games.read(0, source.games());
  const auto convention = *othello::parse_mine_theirs(config_.get_string("mine_theirs"));
  auto labels = analysis::row_labels(batch, source.span(), games::Frame::MineTheirs, convention);
  const RowTable table = make_row_table(std::move(labels.keep), std::move(labels.codes),
                                        prefix_hashes(batch, source.span()));

  const std::string label = ctx.output().label();
  DashboardMeta meta;
  meta.label = label;
  meta.kind = config_.get_string("unit");
  meta.description = source.description();
  meta.title = fmt::format("{}: {}", label, meta.description);
  meta.units = source.units();
  meta.games = source.games();
  meta.rows = table.kept;
  meta.positions_first = source.span().first;
  meta.positions_count = source.span().count;
  meta.options = options_;
  meta.state_source = fmt::format(
      "computed here over the {} rows (fired = value > 0; AUROC exact, mid-ranks; mine/theirs: {})",
      table.kept, config_.get_string("mine_theirs"));
  const auto external = external_states(ctx, source, meta.state_source);

  std::optional<analysis::Sae> sae;
  if (!config_.get_string("sae").empty()) {
    sae = analysis::load_sae(config_.get_path("sae"));
    if (sae->d_sae != source.units())
      throw DataError(fmt::format("the SAE {} has {} features, the features input {}",
                                  config_.get_path("sae").string(), sae->d_sae, source.units()));
  }
  std::optional<Unembedding> model;
  if (!config_.get_string("model").empty()) model = read_unembedding(config_.get_path("model"));
  std::optional<analysis::Probe> probe;
  if (!config_.get_string("probe").empty())
    probe = analysis::load_probe(config_.get_path("probe"), config_.get_bool("probe_normalise"));

  std::string why_not;
  const auto directions =
      unit_directions(source, sae ? &*sae : nullptr, model ? &*model : nullptr, why_not);
  std::optional<std::vector<float>> effect;
  std::optional<ProbeCosines> cosines;
  if (directions) {
    meta.direction_source = directions->source;
    if (model) effect = direct_effect(*directions, *model);
    if (probe) cosines = probe_cosines(*directions, *probe);
  } else {
    meta.direction_note = why_not;
  }
  if (directions && !model) meta.direction_note = "no `model:` was given: no direct effect";
  if (directions && !probe)
    meta.direction_note += std::string(meta.direction_note.empty() ? "" : "; ") +
                           "no `probe:` was given: no cosines with the probe directions";
  meta.has_effect = effect.has_value();
  meta.has_cosines = cosines.has_value();
  if (config_.has("intervention")) {
    ablations_ =
        read_ablations(ctx.input("intervention"), ctx.input("features"), source.units(), meta);
  } else {
    meta.ablation_note =
        "no sae_intervention product was given (`intervention:`): no ablation effects";
  }

  views_.assign(static_cast<std::size_t>(source.units()), UnitView{});
  const std::uint64_t rows = source.rows();
  const auto budget = static_cast<std::uint64_t>(config_.get_int("block_mb")) << 20;
  const auto block = static_cast<std::int64_t>(std::clamp<std::uint64_t>(
      budget / std::max<std::uint64_t>(rows * 4, 1), 1,
      static_cast<std::uint64_t>(std::max<std::int64_t>(source.units(), 1))));
  Progress progress("dashboard " + label, static_cast<std::uint64_t>(source.units()), "units");
  for (std::int64_t first = 0; first < source.units(); first += block) {
    const std::int64_t count = std::min(block, source.units() - first);
    const std::vector<float> values = source.read_block(first, count, chunk_games());
    summarize_block(values, first, count, table, external ? &*external : nullptr, ctx.seed(),
                    std::max(1, ctx.threads()));
    describe_examples(source, batch, table, values, first, count);
    progress.advance(static_cast<std::uint64_t>(count));
  }
  add_probabilities(ctx, source, meta);

  // Pages in <store>.d/dashboards/<label>/; the report is <store>.report.html beside <store>.d.
  const fs::path store_dir = ctx.output().path().parent_path();
  const fs::path folder = store_dir / "dashboards" / label;
  meta.report =
      "../../../" + fs::path(store_dir.filename()).replace_extension(".report.html").string();
  PageWriter pages(folder);
  for (UnitView& v : views_) {
    const auto at = static_cast<std::size_t>(v.index) * 64;
    v.effect = effect ? effect->data() + at : nullptr;
    v.cos_blank = cosines ? cosines->blank.data() + at : nullptr;
    v.cos_mine = cosines ? cosines->mine.data() + at : nullptr;
    if (const auto it = ablations_.find(v.index); it != ablations_.end()) v.ablation = it->second;
    pages.write_unit(v);
  }
  pages.finish(meta);

  Group& root = ctx.output().root();
  write_product_datasets(root, views_, options_, effect ? &*effect : nullptr,
                         cosines ? &*cosines : nullptr);
  auto a = root.attrs();
  a.set("dashboard_index", "dashboards/" + label + "/index.html");
  a.set("dashboard_title", meta.title);
  a.set("units", source.units());
  a.set("unit_kind", meta.kind);
  a.set("state_source", meta.state_source);
  a.set("direction_source", meta.direction_source);
  a.set("notes", meta.probs_note + (meta.direction_note.empty() ? "" : "; " + meta.direction_note));
  a.set("page_bytes", static_cast<std::int64_t>(pages.bytes()));
  analysis::write_position_span(a, source.span());
  log::info("dashboard '{}': {} units, {:.1f} MB of pages in {}", label, source.units(),
            static_cast<double>(pages.bytes()) / 1e6, folder.string());
}

}  // namespace

OTHRUN_PLUGIN(Dashboard)
