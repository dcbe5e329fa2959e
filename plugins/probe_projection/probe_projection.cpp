// probe_projection: projects a cached hook onto the collapsed linear probe for every (game,
// position, square), stores argmax (and optionally the per-class scores), the accuracy against the
// ground truth per square, per position and per class, and the cosine similarity of a set of
// directions (SAE decoder rows / encoder columns, or any tensor's rows or columns) with the probe
// directions next to a random baseline (docs/analyses.md, "probe_projection").
#include "figures.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace {

using namespace othrun;

// accuracy_positions as the [first, last] the accuracy loop compares with (59 model positions).
std::vector<std::int64_t> first_last(const PositionRange& range) {
  return {range.begin, range.stop < 0 ? games::kPositions - 2 : range.stop - 1};
}

class ProbeProjection : public Step {
 public:
  static constexpr const char* kName = "probe_projection";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema("Linear probe: projections, accuracy, and cosine similarity of directions");
    schema.input("games", games::kKind, "games", "the games (ground truth)");
    schema
        .input("activations", "activations", "inference:blocks.6.hook_resid_post",
               "the cached hook to project, LABEL:HOOK (the probe was trained on resid_post 6)")
        .hook_dataset();
    schema
        .path("probe", std::nullopt,
              "full probe .pth [3, d_model, 8, 8, 3] (main_linear_probe.pth or othrun's)")
        .existing();
    schema.retired("hook",
                   "name the hook in the input: activations: LABEL:HOOK, e.g. "
                   "activations: cache:blocks.6.hook_resid_post");
    schema.flag("normalise", false, "unit-norm blank/mine directions per square (for the cosines)");
    schema.choice("mine_theirs", {"real", "parity"}, "real",
                  "whose discs are 'mine' in the ground truth");
    schema.positions(
        "accuracy_positions", "all",
        "positions counted in the accuracy, \"first:stop\" (the probe was trained on \"5:54\")");
    schema.flag("store_scores", false, "also store the scores float32 [games, positions, 64, 3]");
    schema.path("directions", "", "file or SAELens folder with directions to compare (empty: none)")
        .existing();
    schema.choice("directions_source", {"sae_decoder", "sae_encoder", "tensor"}, "sae_decoder",
                  "SAE decoder rows, SAE encoder columns, or `directions_tensor` of a .pth");
    schema.text("directions_tensor", "", "tensor name in the .pth, e.g. blocks.5.mlp.W_in");
    schema.integer("directions_axis", 0, "0: the tensor's rows are directions; 1: its columns")
        .range(0, 1);
    schema.integer("chunk_games", 128, "games per chunk").range(1, 1000000);
    schema.provides("probe_projection");
    schema.data_parallel();
    for (const auto& d : produces_for(false, true)) schema.dataset(d);
    return schema;
  }

  static DatasetDecls produces(const Config& c) {
    return produces_for(c.get_bool("store_scores"), !c.get_string("directions").empty());
  }

  static DatasetDecls produces_for(bool scores, bool directions) {
    DatasetDecls out = {
        {"argmax", DType::Int8, "game,pos,square", "argmax class of the probe scores", "", {}},
        {"accuracy/per_square", DType::Float64, "row,col", "accuracy per square", "", {}},
        {"accuracy/per_position", DType::Float64, "pos", "accuracy per position", "", {}},
        {"accuracy/per_class", DType::Float64, "class", "recall per true class", "", {}},
        {"accuracy/count_per_class", DType::Float64, "class", "cells per true class", "", {}}};
    if (scores) {
      out.push_back({"scores", DType::Float32, "game,pos,square,class", "probe scores", "", {}});
    }
    if (directions) {
      for (const char* set : {"directions", "random"}) {
        const std::string g = std::string("cosine/") + set + "/";
        out.push_back(
            {g + "blank", DType::Float32, "direction,square", "cos with blank_dir", "", {}});
        out.push_back(
            {g + "mine", DType::Float32, "direction,square", "cos with mine_dir", "", {}});
        out.push_back({g + "max_abs", DType::Float32, "direction", "max |cosine|", "", {}});
      }
    }
    return out;
  }

  explicit ProbeProjection(const Config& c)
      : probe_path_(c.get_path("probe")),
        hook_(c.input_dataset("activations")),
        normalise_(c.get_bool("normalise")),
        convention_(*othello::parse_mine_theirs(c.get_string("mine_theirs"))),
        positions_(first_last(c.get_positions("accuracy_positions"))),
        store_scores_(c.get_bool("store_scores")),
        directions_(c.get_string("directions").empty() ? std::filesystem::path()
                                                       : c.get_path("directions")),
        source_(c.get_string("directions_source")),
        tensor_(c.get_string("directions_tensor")),
        axis_(c.get_int("directions_axis")),
        chunk_(static_cast<std::uint64_t>(c.get_int("chunk_games"))) {}

  void run(RunContext& ctx) override {
    const analysis::Probe probe = analysis::load_probe(probe_path_, normalise_);
    Group& root = ctx.output().root();
    project(ctx, probe, root);
    if (!directions_.empty() && ctx.ranks().is_root()) cosines(ctx, probe, root);
  }

 private:
  void project(RunContext& ctx, const analysis::Probe& probe, Group& root) {
    const Product& games_product = ctx.input("games");
    const games::GamesReader games(games_product);
    const analysis::ActivationReader acts(ctx.input("activations"), hook_);
    if (acts.width() != probe.d_model) throw DataError("hook width != probe d_model");
    const analysis::PositionSpan& span = acts.span();
    analysis::check_alignment(acts.games(), games.size(), span, "probe_projection");
    if (std::max(positions_[0], span.first) > std::min(positions_[1], span.stop() - 1)) {
      throw ConfigError("accuracy_positions",
                        fmt::format("[{}, {}] has none of the positions {} cached in hook '{}'",
                                    positions_[0], positions_[1], span.to_string(), hook_));
    }
    const std::uint64_t n = acts.games();
    const auto pos = static_cast<std::uint64_t>(span.count);
    // Each rank projects its share of the games (whole chunks: the same GEMMs as one process).
    Ranks& ranks = ctx.ranks();
    const RowShare share = ranks.share(n, chunk_);
    Dataset argmax = root.create_dataset<std::int8_t>("argmax", {share.count(), pos, 64});
    argmax.attrs().set("doc", "argmax over {0 blank, 1 theirs, 2 mine} of the probe scores");
    analysis::write_position_span(argmax.attrs(), span);
    split_rows(ranks, argmax);
    std::optional<Dataset> scores;
    // float32: the store's float16 conversion (HDF5's) mis-rounds values just below a power of two.
    if (store_scores_) {
      scores.emplace(root.create_dataset<float>("scores", {share.count(), pos, 64, 3}));
      analysis::write_position_span(scores->attrs(), span);
      split_rows(ranks, *scores);
    }
    // Counts of cells (whole numbers in doubles: exact, so their sum is the same in any order).
    std::vector<double> sq_ok(64), sq_n(64), pos_ok(pos), pos_n(pos), cls_ok(3), cls_n(3);
    Progress progress("probe_projection", share.count(), "games");
    for (std::uint64_t first = share.begin; first < share.end; first += chunk_) {
      const std::uint64_t count = std::min(chunk_, share.end - first);
      const auto x = acts.read(first, count);
      const auto rows = static_cast<std::int64_t>(count * pos);
      std::vector<float> s(static_cast<std::size_t>(rows) * 192);
      analysis::probe_scores(probe, x.data(), rows, s.data());
      const auto labels = analysis::row_labels(games.read(first, count), span,
                                               games::Frame::MineTheirs, convention_);
      std::vector<std::int8_t> best(static_cast<std::size_t>(rows) * 64);
      for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
        const std::size_t p = r % pos;  // the column; accuracy_positions are model positions
        const std::int64_t t = span.position(static_cast<std::int64_t>(p));
        for (std::size_t sq = 0; sq < 64; ++sq) {
          const float* v = &s[(r * 64 + sq) * 3];
          const int b = (v[1] > v[0]) ? (v[2] > v[1] ? 2 : 1)
                                      : (v[2] > v[0] ? 2 : 0);  // first max, as torch.argmax
          best[r * 64 + sq] = static_cast<std::int8_t>(b);
          if (!labels.keep[r] || t < positions_[0] || t > positions_[1]) continue;
          const int truth =
              labels.codes[r * 64 + sq];  // 0 empty, 1 theirs, 2 mine: the probe's order
          const double ok = b == truth;
          sq_ok[sq] += ok, sq_n[sq] += 1, pos_ok[p] += ok, pos_n[p] += 1;
          cls_ok[static_cast<std::size_t>(truth)] += ok,
              cls_n[static_cast<std::size_t>(truth)] += 1;
        }
      }
      argmax.write_rows<std::int8_t>(first - share.begin, best);
      if (scores) scores->write_rows<float>(first - share.begin, s);
      progress.advance(count);
    }
    for (auto* counts : {&sq_ok, &sq_n, &pos_ok, &pos_n, &cls_ok, &cls_n}) {
      *counts = sum_on_root(ranks, *counts);
    }
    if (!ranks.is_root()) return;
    auto ratio = [](const std::vector<double>& a, const std::vector<double>& b) {
      std::vector<double> out(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) out[i] = b[i] > 0 ? a[i] / b[i] : std::nan("");
      return out;
    };
    Group g = root.create_group("accuracy");
    analysis::write_dataset(g, "per_square", ratio(sq_ok, sq_n), {8, 8}, "accuracy per square");
    analysis::write_dataset(g, "per_position", ratio(pos_ok, pos_n), {pos},
                            "accuracy per stored position, at the model positions of dataset "
                            "`positions` (NaN outside accuracy_positions)");
    std::vector<std::int64_t> position_of(pos);
    for (std::size_t p = 0; p < pos; ++p)
      position_of[p] = span.position(static_cast<std::int64_t>(p));
    analysis::write_dataset(g, "positions", position_of, {pos},
                            "model position t (the board after move t) of each per_position entry");
    analysis::write_dataset(g, "per_class", ratio(cls_ok, cls_n), {3},
                            "recall per true class: blank, theirs, mine");
    analysis::write_dataset(g, "count_per_class", cls_n, {3}, "cells per true class");
    double ok = 0, all = 0;
    for (int i = 0; i < 3; ++i)
      ok += cls_ok[static_cast<std::size_t>(i)], all += cls_n[static_cast<std::size_t>(i)];
    g.attrs().set("overall", ok / all);
    probe_projection::write_figures(
        root, {hook_, ratio(sq_ok, sq_n), ratio(pos_ok, pos_n), position_of, positions_, ok / all});
    root.attrs().set("hook", hook_);
    root.attrs().set("probe", probe_path_.string());
    root.attrs().set("mine_theirs", othello::to_string(convention_));
  }

  // cos[i, s] of direction i with the probe's blank and mine directions of square s.
  static void cos_table(const analysis::Directions& d, const analysis::Probe& probe,
                        std::vector<float>& blank, std::vector<float>& mine,
                        std::vector<float>& max_abs) {
    blank.assign(static_cast<std::size_t>(d.count * 64), 0);
    mine = blank;
    max_abs.assign(static_cast<std::size_t>(d.count), 0);
    std::vector<double> norm_b(64), norm_m(64);
    for (std::int64_t k = 0; k < d.dim; ++k) {
      for (std::size_t s = 0; s < 64; ++s) {
        norm_b[s] += std::pow(probe.blank_dir[static_cast<std::size_t>(k) * 64 + s], 2);
        norm_m[s] += std::pow(probe.mine_dir[static_cast<std::size_t>(k) * 64 + s], 2);
      }
    }
    for (std::int64_t i = 0; i < d.count; ++i) {
      const float* v = &d.rows[static_cast<std::size_t>(i * d.dim)];
      double nv = 0;
      std::vector<double> db(64), dm(64);
      for (std::int64_t k = 0; k < d.dim; ++k) {
        nv += double{v[k]} * v[k];
        for (std::size_t s = 0; s < 64; ++s) {
          db[s] += double{v[k]} * probe.blank_dir[static_cast<std::size_t>(k) * 64 + s];
          dm[s] += double{v[k]} * probe.mine_dir[static_cast<std::size_t>(k) * 64 + s];
        }
      }
      for (std::size_t s = 0; s < 64; ++s) {
        const auto j = static_cast<std::size_t>(i) * 64 + s;
        blank[j] = static_cast<float>(db[s] / std::sqrt(nv * norm_b[s]));
        mine[j] = static_cast<float>(dm[s] / std::sqrt(nv * norm_m[s]));
        max_abs[static_cast<std::size_t>(i)] =
            std::max({max_abs[static_cast<std::size_t>(i)], std::abs(blank[j]), std::abs(mine[j])});
      }
    }
  }

  void cosines(RunContext& ctx, const analysis::Probe& probe, Group& root) {
    const analysis::Directions d = analysis::load_directions(directions_, source_, tensor_, axis_);
    if (d.dim != probe.d_model)
      throw DataError("directions have size " + std::to_string(d.dim) + ", the probe " +
                      std::to_string(probe.d_model));
    analysis::Directions random{d.count, d.dim, std::vector<float>(d.rows.size())};
    std::mt19937_64 rng(ctx.seed());
    std::normal_distribution<float> normal;
    for (auto& v : random.rows) v = normal(rng);
    Group g = root.create_group("cosine");
    for (const auto& [name, dirs] :
         {std::pair<std::string, const analysis::Directions*>{"directions", &d},
          {"random", &random}}) {
      std::vector<float> blank, mine, max_abs;
      cos_table(*dirs, probe, blank, mine, max_abs);
      Group sub = g.create_group(name);
      const auto count = static_cast<std::uint64_t>(dirs->count);
      analysis::write_dataset(sub, "blank", blank, {count, 64},
                              "cosine with blank_dir of each square");
      analysis::write_dataset(sub, "mine", mine, {count, 64},
                              "cosine with mine_dir of each square");
      analysis::write_dataset(sub, "max_abs", max_abs, {count},
                              "max |cosine| over squares and both directions");
    }
    g.attrs().set("source", directions_.string());
    g.attrs().set("directions_source", source_);
    g.attrs().set("doc", "random: as many Gaussian directions as `directions`, seeded by the step");
  }

  std::filesystem::path probe_path_;
  std::string hook_;
  bool normalise_;
  othello::MineTheirs convention_;
  std::vector<std::int64_t> positions_;
  bool store_scores_;
  std::filesystem::path directions_;
  std::string source_, tensor_;
  std::int64_t axis_;
  std::uint64_t chunk_;
};

}  // namespace

OTHRUN_PLUGIN(ProbeProjection)
