// neuron_spectrum: histogram of a unit's values split by a binary label of the position (the move
// just played is a square; a square is empty/mine/theirs/black/white; a square is a valid move; a
// disc was flipped at a square), with per-label summaries and the label's AUROC
// (docs/analyses.md, "neuron_spectrum").
#include "figures.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/stats.hpp>
#include <othrun/analysis/units.hpp>
#include <othrun/plugin.hpp>

#include <algorithm>
#include <charconv>

namespace {

using namespace othrun;

int parse_square(const std::string& text) {
  if (auto s = othello::parse_square_label(text)) return *s;
  int v = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0 || v > 63) return -1;
  return v;
}

class NeuronSpectrum : public Step {
 public:
  static constexpr const char* kName = "neuron_spectrum";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema("Spectrum plot: a unit's value histogram split by a label, with AUROC");
    schema.input("games", games::kKind, "games", "the games (ground truth)");
    analysis::declare_unit(schema);
    schema.choice("split_by", {"move_played", "square_state", "valid_move", "flipped"},
                  "move_played",
                  "the label: move just played == square; square in `state`; square is a valid "
                  "move; a disc was flipped at square");
    schema.text("square", "E0",
                "the label's square: a label A0..H7 (row letter, column digit) or 0..63");
    schema.choice("state", {"empty", "mine", "theirs", "black", "white"}, "empty",
                  "the state for label square_state");
    schema.choice("mine_theirs", {"real", "parity"}, "real", "whose discs are 'mine'");
    schema.integer("bins", 100, "histogram bins over [min, max] of all values").range(1, 100000);
    schema.provides("neuron_spectrum");
    schema.data_parallel();
    schema.dataset("edges", DType::Float64, "edge", "bin edges over [min, max] of all values");
    schema.dataset("counts", DType::Float64, "label,bin", "[label false/true, bin] counts");
    schema.dataset("percent", DType::Float64, "label,bin", "counts in percent of each label");
    schema.dataset("summary", DType::Float64, "label,statistic", "count, mean, std, min, max");
    return schema;
  }
  static void validate(const Config& config) {
    analysis::validate_unit(config);
    if (parse_square(config.get_string("square")) < 0) {
      throw ConfigError("square",
                        "'" + config.get_string("square") + "' is no square (A0..H7 or 0..63)");
    }
  }

  explicit NeuronSpectrum(const Config& config)
      : unit_(analysis::unit_from_config(config)),
        label_(config.get_string("split_by")),
        square_(parse_square(config.get_string("square"))),
        state_(config.get_string("state")),
        convention_(*othello::parse_mine_theirs(config.get_string("mine_theirs"))),
        bins_(static_cast<int>(config.get_int("bins"))) {}

  void run(RunContext& ctx) override {
    const Product& games_product = ctx.input("games");
    const games::GamesReader games(games_product);
    // Each rank reads its share of the unit's values; rank 0 gets them all, in game order, and
    // computes everything from them as one process would.
    const auto unit = analysis::read_unit_values(
        unit_, ctx.input(unit_.kind == "feature" ? "features" : "activations"), ctx.ranks());
    if (!ctx.ranks().is_root()) return;
    analysis::check_alignment(unit.games, games.size(), unit.positions, "neuron_spectrum");
    const games::GameBatch batch = games.read(0, unit.games);
    std::vector<float> values;
    std::vector<std::uint8_t> labels;
    for (std::size_t i = 0; i < unit.values.size(); ++i) {
      const analysis::RowId at = unit.row(i);  // labelled at its real position, not its column
      if (at.position >= batch.length(at.game)) continue;
      values.push_back(unit.values[i]);
      labels.push_back(label_of(batch, at.game, static_cast<int>(at.position)));
    }
    write(ctx.output().root(), values, labels);
    analysis::write_position_span(ctx.output().root().attrs(), unit.positions);
  }

 private:
  std::uint8_t label_of(const games::GameBatch& batch, std::uint64_t g, int t) const {
    const std::size_t i = games::GameBatch::index(g, t);
    const othello::Bitboard bit = othello::square_bit(square_);
    if (label_ == "move_played") return batch.squares[i] == square_;
    if (label_ == "valid_move") return (batch.valid[i] & bit) != 0;
    if (label_ == "flipped") return (batch.flipped[i] & bit) != 0;
    std::array<std::int8_t, 64> board{};
    const bool bw = state_ == "black" || state_ == "white";
    batch.board(g, t, bw ? games::Frame::BlackWhite : games::Frame::MineTheirs, board, convention_);
    const int v = board[static_cast<std::size_t>(square_)];
    const int want = (state_ == "empty") ? 0 : (state_ == "mine" || state_ == "black") ? 1 : -1;
    return v == want;
  }

  void write(Group& root, const std::vector<float>& values,
             const std::vector<std::uint8_t>& labels) const {
    const analysis::Summary all = analysis::summarize(values);
    analysis::Histogram hist[2] = {analysis::Histogram(all.min, all.max, bins_),
                                   analysis::Histogram(all.min, all.max, bins_)};
    std::vector<float> group[2];
    for (std::size_t i = 0; i < values.size(); ++i) {
      hist[labels[i]].add(values[i]);
      group[labels[i]].push_back(values[i]);
    }
    std::vector<double> counts, percent;
    neuron_spectrum::Results results;
    for (int l = 0; l < 2; ++l) {
      results.counts[l] = hist[l].counts();
      const double total = static_cast<double>(group[l].size());
      for (double c : hist[l].counts()) {
        counts.push_back(c);
        percent.push_back(total > 0 ? 100.0 * c / total : 0.0);
      }
    }
    const auto b = static_cast<std::uint64_t>(bins_);
    analysis::write_dataset(root, "edges", hist[0].edges(), {b + 1},
                            "bin edges over [min, max] of all values");
    analysis::write_dataset(root, "counts", counts, {2, b}, "[label false/true, bin] counts");
    analysis::write_dataset(root, "percent", percent, {2, b},
                            "counts as a percentage of each label's total (histnorm=percent)");
    std::vector<double> summary;
    for (int l = 0; l < 2; ++l) {
      const auto s = analysis::summarize(group[l]);
      summary.insert(summary.end(), {static_cast<double>(s.count), s.mean, s.std, s.min, s.max});
    }
    analysis::write_dataset(root, "summary", summary, {2, 5},
                            "[label false/true] count, mean, std (ddof 0), min, max");
    auto a = root.attrs();
    a.set("unit", unit_.name());
    a.set("label", label_name());
    results.label = label_name();
    results.edges = hist[0].edges();
    results.auroc = analysis::exact_auroc(values, labels);
    a.set("auroc", results.auroc);
    a.set("auroc_doc",
          "exact AUROC of the value as a score for the label (ties half); 1 - it for the other "
          "direction");
    neuron_spectrum::write_figures(root, unit_, results);
  }

  std::string label_name() const {
    const std::string sq = othello::square_label(square_);
    if (label_ == "move_played") return "current_move==" + sq;
    if (label_ == "valid_move") return "valid_move(" + sq + ")";
    if (label_ == "flipped") return "flipped(" + sq + ")";
    return sq + "==" + state_;
  }

  analysis::UnitSpec unit_;
  std::string label_;
  int square_;
  std::string state_;
  othello::MineTheirs convention_;
  int bins_;
};

}  // namespace

OTHRUN_PLUGIN(NeuronSpectrum)
