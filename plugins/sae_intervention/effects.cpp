#include "effects.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/othello.hpp>
#include <othrun/report.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace othrun::sae_intervention {

namespace {

constexpr const char* kStates[3] = {"empty", "theirs", "mine"};

int argmax3(const float* v) { return v[1] > v[0] ? (v[2] > v[1] ? 2 : 1) : (v[2] > v[0] ? 2 : 0); }

}  // namespace

Effects::Effects(std::vector<Chosen> chosen, bool with_probe)
    : chosen_(std::move(chosen)),
      with_probe_(with_probe),
      lp_sum_(chosen_.size() * 2 * 64),
      probe_sum_(chosen_.size() * 2 * 64 * 3),
      flip_sum_(chosen_.size() * 2 * 64),
      rows_(chosen_.size() * 2) {}

void Effects::add(std::size_t i, const float* clean_lp, const float* edited_lp,
                  const float* clean_probe, const float* edited_probe, bool fired) {
  for (int set = 0; set < 2; ++set) {
    if (set == 1 && !fired) continue;
    const std::size_t k = i * 2 + static_cast<std::size_t>(set);
    ++rows_[k];
    for (int token = 1; token <= othello::kNumTokens; ++token) {
      const int s = othello::token_to_square(token);
      lp_sum_[k * 64 + static_cast<std::size_t>(s)] +=
          double{edited_lp[token]} - double{clean_lp[token]};
    }
    if (!with_probe_) continue;
    for (std::size_t s = 0; s < 64; ++s) {
      for (std::size_t c = 0; c < 3; ++c)
        probe_sum_[(k * 64 + s) * 3 + c] +=
            double{edited_probe[s * 3 + c]} - double{clean_probe[s * 3 + c]};
      flip_sum_[k * 64 + s] += argmax3(&edited_probe[s * 3]) != argmax3(&clean_probe[s * 3]);
    }
  }
}

void Effects::write(Group& root, const std::string& what) const {
  const std::size_t F = chosen_.size();
  std::vector<double> lp(F * 2 * 64, std::nan("")), probe(F * 2 * 64 * 3, std::nan("")),
      flips(F * 2 * 64, std::nan(""));
  std::vector<std::int64_t> rows(F * 2), feature(F), square(F), state(F);
  std::vector<double> score(F);
  for (std::size_t k = 0; k < F * 2; ++k) {
    rows[k] = static_cast<std::int64_t>(rows_[k]);
    if (rows_[k] == 0) continue;
    const double n = static_cast<double>(rows_[k]);
    for (std::size_t s = 0; s < 64; ++s) {
      if (othello::is_move_square(static_cast<int>(s))) lp[k * 64 + s] = lp_sum_[k * 64 + s] / n;
      if (!with_probe_) continue;
      flips[k * 64 + s] = flip_sum_[k * 64 + s] / n;
      for (std::size_t c = 0; c < 3; ++c)
        probe[(k * 64 + s) * 3 + c] = probe_sum_[(k * 64 + s) * 3 + c] / n;
    }
  }
  for (std::size_t i = 0; i < F; ++i) {
    feature[i] = chosen_[i].feature;
    square[i] = chosen_[i].square;
    state[i] = chosen_[i].state;
    score[i] = chosen_[i].score;
  }
  Group f = root.create_group("features");
  analysis::write_dataset(f, "index", feature, {}, "the edited features, in run order");
  analysis::write_dataset(f, "square", square, {},
                          "the square whose top feature it is (-1: listed in `features`)");
  analysis::write_dataset(f, "state", state, {}, "that square's state: 0 empty, 1 theirs, 2 mine");
  analysis::write_dataset(f, "score", score, {}, "its score in the sae_correlation product");
  analysis::write_dataset(root, "rows", rows, {F, 2},
                          "[feature, set]: rows averaged; set 0 every row, 1 rows where the "
                          "feature fired in the clean run");
  analysis::write_dataset(root, "logprob_change", lp, {F, 2, 8, 8},
                          "[feature, set, row, col]: mean log-prob change of each move (edited - "
                          "clean); NaN on the centre squares or with no row");
  if (with_probe_) {
    analysis::write_dataset(root, "probe_change", probe, {F, 2, 8, 8, 3},
                            "[feature, set, row, col, class]: mean change of the probe's "
                            "probability of blank, theirs, mine");
    analysis::write_dataset(
        root, "probe_flips", flips, {F, 2, 8, 8},
        "[feature, set, row, col]: fraction of rows whose probe argmax changed");
  }

  std::vector<std::vector<std::string>> table_rows;
  for (std::size_t i = 0; i < F; ++i) {
    const std::size_t k = i * 2 + 1;  // fired rows
    const std::string why =
        chosen_[i].square < 0
            ? "listed"
            : fmt::format("{} {} ({:.3f})", report::square_label(chosen_[i].square),
                          kStates[chosen_[i].state], chosen_[i].score);
    int worst = -1, probe_sq = -1;
    for (int s = 0; s < 64; ++s) {
      const double v = lp[k * 64 + static_cast<std::size_t>(s)];
      if (!std::isnan(v) &&
          (worst < 0 || std::abs(v) > std::abs(lp[k * 64 + static_cast<std::size_t>(worst)])))
        worst = s;
      const double p = flips[k * 64 + static_cast<std::size_t>(s)];
      if (with_probe_ && !std::isnan(p) &&
          (probe_sq < 0 || p > flips[k * 64 + static_cast<std::size_t>(probe_sq)]))
        probe_sq = s;
    }
    table_rows.push_back({std::to_string(chosen_[i].feature), why, std::to_string(rows_[k]),
                          worst < 0 ? "-"
                                    : fmt::format("{} {:+.3f}", report::square_label(worst),
                                                  lp[k * 64 + static_cast<std::size_t>(worst)]),
                          probe_sq < 0
                              ? "-"
                              : fmt::format("{} {:.3f}", report::square_label(probe_sq),
                                            flips[k * 64 + static_cast<std::size_t>(probe_sq)])});
  }
  report::write_figure(
      root, report::table("summary", "SAE feature edits",
                          {"feature", "chosen for", "rows fired",
                           "largest log-prob change (fired rows)", "most flipped probe square"},
                          table_rows, what + " Averages over the rows where the feature fired."));

  for (std::size_t i = 0; i < F; ++i) {
    const std::size_t k = i * 2 + 1;
    report::Board board{};
    report::HeatmapOptions options;
    options.midpoint = 0.0;
    options.colorbar_title = "Δ log-prob";
    for (std::size_t s = 0; s < 64; ++s) {
      const double v = lp[k * 64 + s];
      options.masked[s] = std::isnan(v);
      board[s] = std::isnan(v) ? 0.0 : v;
    }
    const std::string name = fmt::format("feature_{}", chosen_[i].feature);
    report::Figure fig = report::board_heatmap(
        name + "_logprob", board,
        fmt::format("Feature {}: change of each move's log-prob", chosen_[i].feature), options,
        fmt::format(
            "{} Mean over the {} rows where feature {} fired (dataset logprob_change[{}, 1]).",
            what, rows_[k], chosen_[i].feature, i));
    fig.related = {"summary"};
    if (with_probe_) fig.related.push_back(name + "_probe");
    report::write_figure(root, fig);
    if (!with_probe_) continue;
    report::HeatmapOptions blues;
    blues.scale = report::ColorScale::Blues;
    blues.zmin = 0.0;
    blues.colorbar_title = "flipped";
    for (std::size_t s = 0; s < 64; ++s) board[s] = flips[k * 64 + s];
    report::Figure pf = report::board_heatmap(
        name + "_probe", board,
        fmt::format("Feature {}: probe reading changed downstream", chosen_[i].feature), blues,
        fmt::format("Fraction of the {} fired rows where the probe's argmax state of the square "
                    "changed (dataset probe_flips[{}, 1]; probe_change holds the class "
                    "probabilities).",
                    rows_[k], i));
    pf.related = {name + "_logprob"};
    report::write_figure(root, pf);
  }
}

}  // namespace othrun::sae_intervention
