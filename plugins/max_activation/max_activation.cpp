// max_activation: the (game, position) examples where a unit is largest, the mean board over them
// in the mine/theirs frame (and of its absolute value), and the moves just played when the unit is
// active (> 0). The notebook's rule is `top: quantile` with q = 0.99: values strictly greater than
// torch.quantile(values, 0.99) (docs/analyses.md, "max_activation").
#include "figures.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/stats.hpp>
#include <othrun/analysis/units.hpp>
#include <othrun/plugin.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace {

using namespace othrun;

class MaxActivation : public Step {
 public:
  static constexpr const char* kName = "max_activation";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema("Max-activating examples of a unit: mean boards and moves played");
    schema.input("games", games::kKind, "games", "the games (ground truth)");
    analysis::declare_unit(schema);
    schema.choice("top", {"quantile", "k"}, "quantile",
                  "select values > the `quantile` quantile (notebook), or the `k` largest");
    schema.real("quantile", 0.99, "quantile threshold (torch.quantile, linear)").range(0, 1);
    schema.integer("k", 100, "examples when top is k").range(1, 100000000);
    schema.choice("mine_theirs", {"real", "parity"}, "real",
                  "whose discs are 'mine': the real side to move, or the notebook's parity");
    schema.provides("max_activation");
    schema.data_parallel();
    schema.dataset("examples/game", DType::Int64, "example", "game of each selected example");
    schema.dataset("examples/position", DType::Int64, "example", "its position t");
    schema.dataset("examples/value", DType::Float32, "example", "the unit's value");
    schema.dataset("mean_board", DType::Float64, "row,col", "mean mine/theirs board");
    schema.dataset("mean_abs_board", DType::Float64, "row,col", "mean |board|");
    schema.dataset("active_moves/counts", DType::Int64, "square",
                   "positions where the unit is > 0, by the move just played");
    schema.dataset("active_moves/fraction", DType::Float64, "square", "counts / active");
    return schema;
  }
  static void validate(const Config& config) { analysis::validate_unit(config); }

  explicit MaxActivation(const Config& config)
      : unit_(analysis::unit_from_config(config)),
        by_quantile_(config.get_string("top") == "quantile"),
        quantile_(config.get_float("quantile")),
        k_(static_cast<std::uint64_t>(config.get_int("k"))),
        convention_(*othello::parse_mine_theirs(config.get_string("mine_theirs"))) {}

  void run(RunContext& ctx) override {
    const Product& games_product = ctx.input("games");
    const games::GamesReader games(games_product);
    // Each rank reads its share of the unit's values; rank 0 gets them all, in game order, and
    // computes everything from them as one process would.
    const auto unit = analysis::read_unit_values(
        unit_, ctx.input(unit_.kind == "feature" ? "features" : "activations"), ctx.ranks());
    if (!ctx.ranks().is_root()) return;
    analysis::check_alignment(unit.games, games.size(), unit.positions, "max_activation");
    const games::GameBatch batch = games.read(0, unit.games);
    const std::vector<std::size_t> selected = select(unit.values);
    Group& root = ctx.output().root();
    max_activation::Results results;
    write_examples(root, unit, selected);
    write_boards(root, unit, batch, selected, results);
    write_active_moves(root, unit, batch, results);
    results.selected = selected.size();
    results.selection = by_quantile_ ? fmt::format("value > quantile {}", quantile_)
                                     : fmt::format("the {} largest values", k_);
    results.mine_theirs = othello::to_string(convention_);
    max_activation::write_figures(root, unit_, results);
  }

 private:
  // Indices (game * positions + position) of the selected rows, largest value first.
  std::vector<std::size_t> select(const std::vector<float>& v) {
    std::vector<std::size_t> idx;
    if (by_quantile_) {
      threshold_ = analysis::quantile_linear(v, quantile_);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] > threshold_) idx.push_back(i);
      }
    } else {
      idx.resize(v.size());
      std::iota(idx.begin(), idx.end(), 0);
      const std::size_t k = std::min<std::size_t>(k_, v.size());
      std::partial_sort(
          idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
          [&](std::size_t a, std::size_t b) { return v[a] != v[b] ? v[a] > v[b] : a < b; });
      idx.resize(k);
      threshold_ = k ? v[idx.back()] : 0.0f;
    }
    std::stable_sort(idx.begin(), idx.end(),
                     [&](std::size_t a, std::size_t b) { return v[a] > v[b]; });
    return idx;
  }

  void write_examples(Group& root, const analysis::UnitValues& unit,
                      const std::vector<std::size_t>& sel) {
    std::vector<std::int64_t> game, position;
    std::vector<float> value;
    for (std::size_t i : sel) {
      const analysis::RowId at = unit.row(i);
      game.push_back(static_cast<std::int64_t>(at.game));
      position.push_back(at.position);
      value.push_back(unit.values[i]);
    }
    Group g = root.create_group("examples");
    const auto n = static_cast<std::uint64_t>(sel.size());
    analysis::write_dataset(g, "game", game, {n},
                            "game index of each example, largest value first");
    analysis::write_dataset(g, "position", position, {n},
                            "model position t (the state after move t), not the cache column");
    analysis::write_dataset(g, "value", value, {n}, "the unit's value");
    auto a = root.attrs();
    a.set("unit", unit_.name());
    a.set("threshold", static_cast<double>(threshold_));
    a.set("selection", by_quantile_ ? "value > quantile(values, q) (torch linear interpolation)"
                                    : "the k largest values");
    a.set("quantile", quantile_);
    a.set("selected", static_cast<std::int64_t>(n));
    a.set("rows", static_cast<std::int64_t>(unit.values.size()));
    analysis::write_position_span(a, unit.positions);
    a.set("mine_theirs", othello::to_string(convention_));
  }

  void write_boards(Group& root, const analysis::UnitValues& unit, const games::GameBatch& batch,
                    const std::vector<std::size_t>& sel, max_activation::Results& results) {
    std::vector<double> mean(64, 0.0), mean_abs(64, 0.0);
    std::array<std::int8_t, 64> board{};
    for (std::size_t i : sel) {
      const analysis::RowId at = unit.row(i);
      batch.board(at.game, static_cast<int>(at.position), games::Frame::MineTheirs, board,
                  convention_);
      for (std::size_t s = 0; s < 64; ++s) {
        mean[s] += board[s];
        mean_abs[s] += std::abs(board[s]);
      }
    }
    for (std::size_t s = 0; s < 64; ++s) {
      mean[s] /= static_cast<double>(sel.size());
      mean_abs[s] /= static_cast<double>(sel.size());
    }
    analysis::write_dataset(root, "mean_board", mean, {8, 8},
                            "mean over the examples of the board, +1 mine, -1 theirs, 0 empty");
    analysis::write_dataset(root, "mean_abs_board", mean_abs, {8, 8},
                            "mean over the examples of |board| (occupancy)");
    results.mean_board = std::move(mean);
    results.mean_abs_board = std::move(mean_abs);
  }

  void write_active_moves(Group& root, const analysis::UnitValues& unit,
                          const games::GameBatch& batch, max_activation::Results& results) {
    std::vector<std::int64_t> counts(64, 0);
    std::int64_t active = 0;
    for (std::size_t i = 0; i < unit.values.size(); ++i) {
      if (!(unit.values[i] > 0)) continue;
      const analysis::RowId at = unit.row(i);
      const int square =
          batch.squares[games::GameBatch::index(at.game, static_cast<int>(at.position))];
      if (square < 0) continue;
      ++counts[static_cast<std::size_t>(square)];
      ++active;
    }
    std::vector<double> fraction(64, 0.0);
    for (std::size_t s = 0; s < 64; ++s)
      fraction[s] = active ? static_cast<double>(counts[s]) / static_cast<double>(active) : 0.0;
    Group g = root.create_group("active_moves");
    analysis::write_dataset(
        g, "counts", counts, {64},
        "positions where the unit is > 0, by the square of the move just played");
    analysis::write_dataset(g, "fraction", fraction, {64}, "counts / active");
    g.attrs().set("active", active);
    results.active_counts = std::move(counts);
    results.active = active;
  }

  analysis::UnitSpec unit_;
  bool by_quantile_;
  double quantile_;
  std::uint64_t k_;
  othello::MineTheirs convention_;
  float threshold_ = 0;
};

}  // namespace

OTHRUN_PLUGIN(MaxActivation)
