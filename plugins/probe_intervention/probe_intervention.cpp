// probe_intervention: flips a square's state in the model's mine/theirs frame along the linear
// probe's direction at layer L and compares the predicted legal moves with the legal moves of the
// edited board (docs/interventions.md, "probe_intervention"). Null control: a random direction,
// displacement of the same norm.
#include "results.hpp"

#include <othrun/analysis/probe.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace {

using namespace othrun;
using namespace othrun::probe_intervention;

class ProbeIntervention : public Step {
 public:
  static constexpr const char* kName = "probe_intervention";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema s(
        "Flips a square along the probe direction at layer L; legal-move predictions vs the "
        "edited board, with a random-direction control");
    s.input("games", games::kKind, "games", "the games the cases are drawn from");
    s.path("model", std::nullopt, "Othello-GPT checkpoint (processed as inference's defaults)")
        .existing();
    s.path("probe", std::nullopt, "full linear probe .pth [3, d_model, 8, 8, 3]").existing();
    s.choice("hook", {"resid_pre", "resid_mid", "resid_post"}, "resid_post",
             "the residual-stream hook edited in each layer");
    s.integers("layers", std::vector<std::int64_t>{2, 3, 4, 5, 6, 7},
               "layers to edit (one at a time)")
        .range(0, 1000);
    s.choice("mode", {"reflect", "add"}, "reflect",
             "reflect: the component along the unit probe direction c -> -alpha c; add: "
             "alpha x unit direction towards the new state");
    s.reals("alphas", std::vector<double>{1.0}, "edit strengths").range(0, 1e6);
    s.integer("cases", 200, "cases (game, position, square) to draw").range(1, 1000000);
    s.integer("max_games", 500, "draw from the first max_games games; 0: all").range(0, 1e12);
    s.positions("positions", "5:54", "model positions the cases are drawn from");
    s.flag("require_change", true,
           "keep only flips whose edited board has other legal moves than the real one");
    s.real("threshold", -4.605170185988091,
           "log-prob above which a move counts as predicted legal (default: p > 1%)");
    s.integer("batch_cases", 100, "cases per forward pass").range(1, 100000);
    s.provides("probe_intervention");
    s.dataset("metrics/top1_legal", DType::Float64, "layer,alpha,condition",
              "top move legal on the edited board (condition 0 probe, 1 random)");
    s.dataset("metrics/errors_topn", DType::Float64, "layer,alpha,condition",
              "mean |top-n ^ legal_edited|, n = |legal_edited|");
    s.dataset("metrics/errors_threshold", DType::Float64, "layer,alpha,condition",
              "mean |{log-prob > threshold} ^ legal_edited|");
    s.dataset("metrics/changed_topn", DType::Float64, "layer,alpha,condition",
              "mean |top-n after ^ top-n before|");
    s.dataset("metrics/errors_flipped", DType::Float64, "layer,alpha,condition",
              "top-n errors on the moves the flip changes");
    s.dataset("metrics/logprob_shift", DType::Float64, "layer,alpha,condition",
              "log-prob change of newly legal minus newly illegal moves");
    s.dataset("metrics/before/errors_flipped", DType::Float64, "one", "unedited errors_flipped");
    s.dataset("metrics/before/top1_legal", DType::Float64, "board",
              "unedited model vs [real, edited] board");
    s.dataset("metrics/before/errors_topn", DType::Float64, "board", "the same, top-n errors");
    s.dataset("metrics/before/errors_threshold", DType::Float64, "board",
              "the same, threshold errors");
    s.dataset("cases/game", DType::Int64, "case", "game index");
    s.dataset("cases/position", DType::Int64, "case", "model position t");
    s.dataset("cases/square", DType::Int64, "case", "flipped square");
    s.dataset("cases/was_mine", DType::Int64, "case", "1 when the square was mine");
    s.dataset("cases/legal_original", DType::UInt64, "case", "legal moves, real board");
    s.dataset("cases/legal_edited", DType::UInt64, "case", "legal moves, edited board");
    s.dataset("cases/edited_black", DType::UInt64, "case", "edited board, black");
    s.dataset("cases/edited_white", DType::UInt64, "case", "edited board, white");
    s.dataset("cases/component", DType::Float32, "layer,case", "component along the probe");
    s.dataset("predictions/clean_top1", DType::Int64, "case", "unedited top square");
    s.dataset("predictions/clean_topn", DType::UInt64, "case", "unedited top-n");
    s.dataset("predictions/top1", DType::Int64, "layer,alpha,condition,case", "top square");
    s.dataset("predictions/topn", DType::UInt64, "layer,alpha,condition,case", "top-n set");
    s.dataset("predictions/threshold", DType::UInt64, "layer,alpha,condition,case",
              "above-threshold set");
    s.dataset("layers", DType::Int64, "layer", "the layers");
    s.dataset("alphas", DType::Float64, "alpha", "the alphas");
    return s;
  }

  static void validate(const Config& c) {
    if (c.get_ints("layers").empty()) throw ConfigError("layers", "give at least one layer");
    if (c.get_floats("alphas").empty()) throw ConfigError("alphas", "give at least one alpha");
    check_layers(c);
    const PositionRange p = c.get_positions("positions");
    if (p.begin > games::kPositions - 2)
      throw ConfigError("positions", fmt::format("first position {} leaves no next move to predict "
                                                 "(the last is {})",
                                                 p.begin, games::kPositions - 2));
  }

  // The layers against the model file's shapes (read without LibTorch), so that --check finds a
  // layer the model lacks. A file an earlier step writes is checked when the step runs.
  static void check_layers(const Config& c) {
    const std::filesystem::path model = c.get_path("model");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(model, ec)) return;
    gpt::ModelConfig shape;
    try {
      shape = gpt::infer_config(
          gpt::load_checkpoint(model, gpt::CheckpointFormat::Auto, std::nullopt).tensors,
          model.string());
    } catch (const Error& error) {
      throw ConfigError("model", error.what());
    }
    for (std::int64_t l : c.get_ints("layers")) {
      if (l >= shape.n_layers)
        throw ConfigError("layers", fmt::format("layer {} does not exist: {} has {} layers", l,
                                                model.filename().string(), shape.n_layers));
    }
  }

  explicit ProbeIntervention(const Config& c)
      : model_path_(c.get_path("model")),
        probe_path_(c.get_path("probe")),
        n_cases_(static_cast<std::uint64_t>(c.get_int("cases"))),
        max_games_(static_cast<std::uint64_t>(c.get_int("max_games"))),
        positions_(c.get_positions("positions")),
        require_change_(c.get_bool("require_change")),
        batch_(static_cast<std::size_t>(c.get_int("batch_cases"))) {
    setup_.hook_kind = c.get_string("hook");
    setup_.mode = c.get_string("mode");
    setup_.layers = c.get_ints("layers");
    setup_.alphas = c.get_floats("alphas");
    setup_.threshold = c.get_float("threshold");
  }

  void run(RunContext& ctx) override {
    const games::GamesReader reader(ctx.input("games"));
    const std::uint64_t n_games =
        max_games_ == 0 ? reader.size() : std::min(max_games_, reader.size());
    if (reader.convention() != othello::MineTheirs::Real)
      log::info(
          "probe_intervention: mine = the real side to move (the games' own convention "
          "is {})",
          othello::to_string(reader.convention()));
    const games::GameBatch games = reader.read(0, n_games);
    std::mt19937_64 rng(ctx.seed());
    CaseRequest request{n_cases_, positions_.begin,
                        positions_.stop < 0 ? games::kPositions - 1 : positions_.stop,
                        require_change_};
    CaseSelection sel = select_cases(games, request, rng);
    log::info(
        "probe_intervention: {} cases in {} draws ({} skipped: the side to move could not "
        "move on the edited board; {}: legal moves unchanged; {}: drawn twice)",
        sel.cases.size(), sel.attempts, sel.skipped_no_move, sel.skipped_unchanged,
        sel.skipped_duplicate);
    if (sel.cases.empty())
      throw Error(
          fmt::format("probe_intervention: no usable case among {} draws from {} games at "
                      "positions {}",
                      sel.attempts, n_games, positions_.to_string()));
    if (sel.cases.size() < n_cases_)
      log::warn("probe_intervention: only {} of {} cases found (stored as attribute cases)",
                sel.cases.size(), n_cases_);

    gpt::set_num_threads(ctx.threads());  // --threads: LibTorch's share of the cores
    const auto model = gpt::HookedTransformer::from_file(model_path_, {});
    const analysis::Probe probe = analysis::load_probe(probe_path_, false);
    const gpt::ModelConfig& mc = model.config();
    if (probe.d_model != mc.d_model)
      throw DataError(fmt::format("{}: the probe's d_model is {}, the model's {}",
                                  probe_path_.string(), probe.d_model, mc.d_model));
    for (std::int64_t l : setup_.layers) {
      if (l >= mc.n_layers)
        throw ConfigError("layers", fmt::format("layer {} does not exist: {} has {} layers", l,
                                                model_path_.filename().string(), mc.n_layers));
    }
    Results results(setup_, sel.cases);
    random_ = random_directions(results.cases().size(), mc.d_model, rng);
    // Cases sorted by position: a batch runs only up to its last position.
    std::vector<std::size_t> order(results.cases().size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return results.cases()[a].position < results.cases()[b].position;
    });
    Progress progress("probe_intervention", order.size(), "cases");
    for (std::size_t first = 0; first < order.size(); first += batch_) {
      const std::vector<std::size_t> ids(
          order.begin() + static_cast<std::ptrdiff_t>(first),
          order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), first + batch_)));
      run_batch(model, probe, games, ids, results);
      progress.advance(ids.size());
    }
    Group& root = ctx.output().root();
    results.write(root);
    root.attrs().set("cases", static_cast<std::int64_t>(results.cases().size()));
    root.attrs().set("cases_requested", static_cast<std::int64_t>(n_cases_));
    root.attrs().set("draws", static_cast<std::int64_t>(sel.attempts));
    root.attrs().set("skipped_no_move", static_cast<std::int64_t>(sel.skipped_no_move));
    root.attrs().set("skipped_unchanged", static_cast<std::int64_t>(sel.skipped_unchanged));
    root.attrs().set("skipped_duplicate", static_cast<std::int64_t>(sel.skipped_duplicate));
    root.attrs().set("model", model_path_.string());
    root.attrs().set("probe", probe_path_.string());
    root.attrs().set("hook", setup_.hook_kind);
    root.attrs().set("mode", setup_.mode);
    root.attrs().set("threshold", setup_.threshold);
    root.attrs().set("mine_theirs", "real");
  }

 private:
  // One unit random direction per case (Gaussian), the same at every layer and alpha.
  static std::vector<float> random_directions(std::size_t n, std::int64_t d, std::mt19937_64& rng) {
    std::normal_distribution<double> normal;
    std::vector<float> out(n * static_cast<std::size_t>(d));
    for (std::size_t c = 0; c < n; ++c) {
      std::vector<double> v(static_cast<std::size_t>(d));
      double norm = 0;
      for (double& x : v) x = normal(rng), norm += x * x;
      for (std::size_t k = 0; k < v.size(); ++k)
        out[c * v.size() + k] = static_cast<float>(v[k] / std::sqrt(norm));
    }
    return out;
  }

  std::string hook(std::int64_t layer) const {
    return fmt::format("blocks.{}.hook_{}", layer, setup_.hook_kind);
  }

  void run_batch(const gpt::HookedTransformer& model, const analysis::Probe& probe,
                 const games::GameBatch& games, const std::vector<std::size_t>& ids,
                 Results& results) const {
    const auto b = static_cast<std::int64_t>(ids.size());
    const std::int64_t d = model.config().d_model;
    int n_pos = 0;
    for (std::size_t id : ids) n_pos = std::max(n_pos, results.cases()[id].position + 1);
    std::vector<std::int64_t> tokens(static_cast<std::size_t>(b * n_pos)), at;
    std::vector<float> unit(static_cast<std::size_t>(b * d)), sign(ids.size());
    for (std::size_t r = 0; r < ids.size(); ++r) {
      const Case& c = results.cases()[ids[r]];
      for (int t = 0; t < n_pos; ++t)
        tokens[r * static_cast<std::size_t>(n_pos) + static_cast<std::size_t>(t)] =
            games.tokens[games::GameBatch::index(c.game, t)];
      at.push_back(c.position);
      double norm = 0;
      for (std::int64_t k = 0; k < d; ++k)
        norm += std::pow(probe.mine_dir[static_cast<std::size_t>(k) * 64 + c.square], 2);
      for (std::int64_t k = 0; k < d; ++k)
        unit[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)] = static_cast<float>(
            probe.mine_dir[static_cast<std::size_t>(k) * 64 + c.square] / std::sqrt(norm));
      sign[r] = c.was_mine ? -1.0f : 1.0f;  // towards theirs when it was mine
    }
    const HostTensor input = HostTensor::from_values<std::int64_t>({b, n_pos}, tokens);
    gpt::RunRequest clean_request;
    clean_request.logits = gpt::LogitsOutput::LogProbs;
    for (std::int64_t l : setup_.layers) clean_request.hooks.insert(hook(l));
    const gpt::Cache clean = model.run(input, clean_request);
    const HostTensor& clean_lp = clean.at("log_probs");
    for (std::size_t r = 0; r < ids.size(); ++r)
      results.set_clean(ids[r], predict(row(clean_lp, r, at[r])));

    const HostTensor directions = HostTensor::from_values<float>({b, d}, unit);
    for (std::size_t l = 0; l < setup_.layers.size(); ++l) {
      const HostTensor& x = clean.at(hook(setup_.layers[l]));
      std::vector<double> component(ids.size());
      for (std::size_t r = 0; r < ids.size(); ++r) {
        const float* xr = x.data_as<float>() +
                          (r * static_cast<std::size_t>(n_pos) + static_cast<std::size_t>(at[r])) *
                              static_cast<std::size_t>(d);
        for (std::int64_t k = 0; k < d; ++k)
          component[r] +=
              double{xr[k]} * unit[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)];
        results.set_component(l, ids[r], static_cast<float>(component[r]));
      }
      for (std::size_t a = 0; a < setup_.alphas.size(); ++a) {
        const double alpha = setup_.alphas[a];
        gpt::Edit along;
        std::vector<float> moved(unit.size()), control(unit.size());
        for (std::size_t r = 0; r < ids.size(); ++r) {
          // The displacement's norm: |(-alpha - 1) c| for reflect, alpha for add.
          const double norm =
              setup_.mode == "reflect" ? (alpha + 1) * std::abs(component[r]) : alpha;
          for (std::int64_t k = 0; k < d; ++k) {
            const std::size_t i = r * static_cast<std::size_t>(d) + static_cast<std::size_t>(k);
            moved[i] = static_cast<float>(sign[r] * alpha) * unit[i];
            control[i] =
                static_cast<float>(norm) *
                random_[ids[r] * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)];
          }
        }
        const std::string h = hook(setup_.layers[l]);
        if (setup_.mode == "reflect") {
          along = gpt::Edit::scale_along(h, directions, {-alpha}, gpt::Positions::one_per_row(at));
        } else {
          along = gpt::Edit::add(h, HostTensor::from_values<float>({b, d}, moved),
                                 gpt::Positions::one_per_row(at));
        }
        const gpt::Edit random = gpt::Edit::add(h, HostTensor::from_values<float>({b, d}, control),
                                                gpt::Positions::one_per_row(at));
        int condition = 0;
        for (const gpt::Edit& e : {along, random}) {
          gpt::RunRequest request;
          request.logits = gpt::LogitsOutput::LogProbs;
          request.edits = {e};
          const gpt::Cache edited = model.run(input, request);
          for (std::size_t r = 0; r < ids.size(); ++r)
            results.set_edited(l, a, condition, ids[r],
                               predict(row(edited.at("log_probs"), r, at[r])));
          ++condition;
        }
      }
    }
  }

  // log_probs[r, t, :] of a [batch, pos, 61] tensor.
  static const float* row(const HostTensor& log_probs, std::size_t r, std::int64_t t) {
    const auto n_pos = static_cast<std::size_t>(log_probs.shape()[1]);
    const auto v = static_cast<std::size_t>(log_probs.shape()[2]);
    return log_probs.data_as<float>() + (r * n_pos + static_cast<std::size_t>(t)) * v;
  }

  std::filesystem::path model_path_, probe_path_;
  std::uint64_t n_cases_, max_games_;
  PositionRange positions_;
  bool require_change_;
  std::size_t batch_;
  Setup setup_;
  std::vector<float> random_;
};

}  // namespace

OTHRUN_PLUGIN(ProbeIntervention)
