#include "results.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/report.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace othrun::probe_intervention {

namespace {

using othello::Bitboard;

bool has(Bitboard set, int square) { return square >= 0 && (set & othello::square_bit(square)); }

template <class F>
double mean_over(std::size_t n, F value) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += value(i);
  return n ? sum / static_cast<double>(n) : std::nan("");
}

}  // namespace

Results::Results(const Setup& setup, std::vector<Case> cases)
    : setup_(setup),
      cases_(std::move(cases)),
      clean_(cases_.size()),
      clean_outcome_(cases_.size()),
      edited_(setup_.layers.size() * setup_.alphas.size() * kConditions * cases_.size()),
      component_(setup_.layers.size() * cases_.size()) {
  example_edited.resize(setup_.layers.size() * setup_.alphas.size() * kConditions);
}

Outcome Results::outcome(const Case& c, const Prediction& p, const Prediction* before) const {
  Outcome o{static_cast<std::int8_t>(p.top1), p.top(othello::count(c.legal_edited)),
            p.above(setup_.threshold), 0, 0};
  const Bitboard flipped = c.legal_original ^ c.legal_edited;
  o.errors_flipped = othello::count((o.topn ^ c.legal_edited) & flipped);
  if (before == nullptr) return o;
  // Mean change over a set of squares (0 for an empty set).
  auto mean_change = [&](Bitboard squares) {
    double sum = 0;
    for (Bitboard b = squares; b; b &= b - 1) {
      const int s = std::countr_zero(b);
      sum += double{p.log_probs[s]} - double{before->log_probs[s]};
    }
    return squares ? sum / othello::count(squares) : 0.0;
  };
  o.shift = mean_change(c.legal_edited & ~c.legal_original) -
            mean_change(c.legal_original & ~c.legal_edited);
  return o;
}

void Results::set_clean(std::size_t c, const Prediction& p) {
  clean_[c] = p;
  clean_outcome_[c] = outcome(cases_[c], p, nullptr);
  if (c == 0) example_clean.assign(std::begin(p.log_probs), std::end(p.log_probs));
}

void Results::set_edited(std::size_t layer, std::size_t alpha, int condition, std::size_t c,
                         const Prediction& p) {
  const std::size_t s = slot(layer, alpha, condition);
  edited_[s * cases_.size() + c] = outcome(cases_[c], p, &clean_[c]);
  if (c == 0) example_edited[s].assign(std::begin(p.log_probs), std::end(p.log_probs));
}

double Results::top1_legal(std::size_t s) const {
  return mean_over(cases_.size(), [&](std::size_t c) {
    return has(cases_[c].legal_edited, edited_[s * cases_.size() + c].top1) ? 1.0 : 0.0;
  });
}
double Results::errors_topn(std::size_t s) const {
  return mean_over(cases_.size(), [&](std::size_t c) {
    return double(errors(edited_[s * cases_.size() + c].topn, cases_[c].legal_edited));
  });
}
double Results::errors_threshold(std::size_t s) const {
  return mean_over(cases_.size(), [&](std::size_t c) {
    return double(errors(edited_[s * cases_.size() + c].threshold, cases_[c].legal_edited));
  });
}
double Results::changed_topn(std::size_t s) const {
  return mean_over(cases_.size(), [&](std::size_t c) {
    return double(othello::count(edited_[s * cases_.size() + c].topn ^ clean_outcome_[c].topn));
  });
}

double Results::errors_flipped(std::size_t s) const {
  return mean_over(cases_.size(), [&](std::size_t c) {
    return double(edited_[s * cases_.size() + c].errors_flipped);
  });
}
double Results::logprob_shift(std::size_t s) const {
  return mean_over(cases_.size(),
                   [&](std::size_t c) { return edited_[s * cases_.size() + c].shift; });
}

void Results::write(Group& root) const {
  const std::size_t n = cases_.size(), L = setup_.layers.size(), A = setup_.alphas.size();
  Group cases = root.create_group("cases");
  std::vector<std::int64_t> game(n), position(n), square(n), was_mine(n);
  std::vector<std::uint64_t> legal_original(n), legal_edited(n), black(n), white(n);
  for (std::size_t c = 0; c < n; ++c) {
    game[c] = static_cast<std::int64_t>(cases_[c].game);
    position[c] = cases_[c].position;
    square[c] = cases_[c].square;
    was_mine[c] = cases_[c].was_mine;
    legal_original[c] = cases_[c].legal_original;
    legal_edited[c] = cases_[c].legal_edited;
    black[c] = cases_[c].edited.black();
    white[c] = cases_[c].edited.white();
  }
  analysis::write_dataset(cases, "game", game, {}, "game index in the games product");
  analysis::write_dataset(cases, "position", position, {},
                          "model position t (the board after move t; the model predicts move t+1)");
  analysis::write_dataset(cases, "square", square, {}, "the flipped square, row * 8 + col");
  analysis::write_dataset(cases, "was_mine", was_mine, {},
                          "1: the square was the side to move's (flipped to theirs), 0: theirs");
  analysis::write_dataset(cases, "legal_original", legal_original, {},
                          "legal moves of the real board (bitboard, bit s = square s)");
  analysis::write_dataset(cases, "legal_edited", legal_edited, {},
                          "legal moves of the edited board for the same side to move");
  analysis::write_dataset(cases, "edited_black", black, {}, "edited board: black discs");
  analysis::write_dataset(cases, "edited_white", white, {}, "edited board: white discs");
  analysis::write_dataset(cases, "component", component_, {L, n},
                          "[layer, case]: the clean activation's component along the unit probe "
                          "direction (mine - theirs) of the case's square, at that layer's hook");

  Group pred = root.create_group("predictions");
  std::vector<std::int64_t> clean_top1(n);
  std::vector<std::uint64_t> clean_topn(n);
  for (std::size_t c = 0; c < n; ++c) {
    clean_top1[c] = clean_outcome_[c].top1;
    clean_topn[c] = clean_outcome_[c].topn;
  }
  analysis::write_dataset(pred, "clean_top1", clean_top1, {}, "unedited model: most likely square");
  analysis::write_dataset(pred, "clean_topn", clean_topn, {},
                          "unedited model: top-n squares, n = |legal_edited| (bitboard)");
  std::vector<std::int64_t> top1(edited_.size());
  std::vector<std::uint64_t> topn(edited_.size()), thr(edited_.size());
  for (std::size_t i = 0; i < edited_.size(); ++i) {
    top1[i] = edited_[i].top1;
    topn[i] = edited_[i].topn;
    thr[i] = edited_[i].threshold;
  }
  const std::vector<std::uint64_t> shape = {L, A, kConditions, n};
  analysis::write_dataset(pred, "top1", top1, shape, "[layer, alpha, condition, case] top square");
  analysis::write_dataset(pred, "topn", topn, shape,
                          "[layer, alpha, condition, case] top-n squares, n = |legal_edited|");
  analysis::write_dataset(pred, "threshold", thr, shape,
                          "[layer, alpha, condition, case] squares with log-prob > threshold");

  Group m = root.create_group("metrics");
  std::vector<double> t1, etn, eth, ch, ef, sh;
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t a = 0; a < A; ++a)
      for (int k = 0; k < kConditions; ++k) {
        const std::size_t s = slot(l, a, k);
        t1.push_back(top1_legal(s));
        etn.push_back(errors_topn(s));
        eth.push_back(errors_threshold(s));
        ch.push_back(changed_topn(s));
        ef.push_back(errors_flipped(s));
        sh.push_back(logprob_shift(s));
      }
  const std::vector<std::uint64_t> mshape = {L, A, kConditions};
  analysis::write_dataset(m, "top1_legal", t1, mshape,
                          "[layer, alpha, condition]: fraction of cases whose top move is legal on "
                          "the edited board");
  analysis::write_dataset(m, "errors_topn", etn, mshape,
                          "[layer, alpha, condition]: mean |top-n ^ legal_edited|, n = "
                          "|legal_edited| (false positives + false negatives)");
  analysis::write_dataset(
      m, "errors_threshold", eth, mshape,
      "[layer, alpha, condition]: mean |{log-prob > threshold} ^ legal_edited|");
  analysis::write_dataset(m, "changed_topn", ch, mshape,
                          "[layer, alpha, condition]: mean |top-n after ^ top-n before|");
  analysis::write_dataset(m, "errors_flipped", ef, mshape,
                          "[layer, alpha, condition]: mean top-n errors against the edited board "
                          "on the moves the flip makes legal or illegal only");
  analysis::write_dataset(m, "logprob_shift", sh, mshape,
                          "[layer, alpha, condition]: mean over cases of (mean log-prob change of "
                          "the moves the flip makes legal) - (the same for the moves it makes "
                          "illegal); > 0: the prediction follows the edited board");
  // Before any edit: the unedited model against the real and the edited board.
  const double n_d = static_cast<double>(n);
  double b_t1_o = 0, b_t1_e = 0, b_etn_o = 0, b_etn_e = 0, b_eth_o = 0, b_eth_e = 0, b_ef = 0;
  for (std::size_t c = 0; c < n; ++c) {
    const Case& k = cases_[c];
    const Prediction& p = clean_[c];
    b_t1_o += has(k.legal_original, p.top1), b_t1_e += has(k.legal_edited, p.top1);
    b_etn_o += errors(p.top(othello::count(k.legal_original)), k.legal_original);
    b_etn_e += errors(p.top(othello::count(k.legal_edited)), k.legal_edited);
    const Bitboard above = p.above(setup_.threshold);
    b_eth_o += errors(above, k.legal_original), b_eth_e += errors(above, k.legal_edited);
    b_ef += clean_outcome_[c].errors_flipped;
  }
  const std::vector<double> bt1 = {b_t1_o / n_d, b_t1_e / n_d},
                            betn = {b_etn_o / n_d, b_etn_e / n_d},
                            beth = {b_eth_o / n_d, b_eth_e / n_d};
  Group b = m.create_group("before");
  analysis::write_dataset(b, "top1_legal", bt1, {},
                          "unedited model, [real board, edited board]: top move legal");
  analysis::write_dataset(b, "errors_topn", betn, {},
                          "unedited model, [real board, edited board]: mean top-n errors");
  analysis::write_dataset(b, "errors_threshold", beth, {},
                          "unedited model, [real board, edited board]: mean threshold errors");
  analysis::write_dataset(b, "errors_flipped", std::vector<double>{b_ef / n_d}, {},
                          "unedited model: errors_flipped against the edited board");
  analysis::write_dataset(root, "layers", setup_.layers, {}, "the layers edited (axis 0)");
  analysis::write_dataset(root, "alphas", setup_.alphas, {}, "the alphas (axis 1)");
  root.attrs().set("conditions", std::vector<std::string>{"probe", "random"});
  write_figures(root);
}

namespace {

report::Board board_of(const std::vector<float>& log_probs) {
  report::Board b{};
  for (int s = 0; s < 64; ++s) {
    const float v = log_probs.at(static_cast<std::size_t>(s));
    b[static_cast<std::size_t>(s)] = std::isinf(v) ? 0.0 : std::exp(double{v});
  }
  return b;
}

report::Position position_of(const othello::Position& p, int last_move) {
  report::Position out;
  for (int s = 0; s < 64; ++s)
    out.cells[static_cast<std::size_t>(s)] = static_cast<std::int8_t>(othello::value(p.at(s)));
  out.last_move = last_move;
  for (Bitboard b = p.valid_moves(); b; b &= b - 1) out.valid_moves.push_back(std::countr_zero(b));
  return out;
}

}  // namespace

void Results::write_figures(Group& root) const {
  const std::size_t L = setup_.layers.size(), A = setup_.alphas.size();
  std::vector<report::Series> errors_series, top1_series, shift_series;
  for (std::size_t a = 0; a < A; ++a) {
    for (int k = 0; k < kConditions; ++k) {
      const std::string name =
          fmt::format("{} direction, alpha {}", kConditionNames[k], setup_.alphas[a]);
      report::Series e{name, {}, {}, {}, k == 0 ? "" : "gray"};
      report::Series t = e, sh = e;
      for (std::size_t l = 0; l < L; ++l) {
        sh.x.push_back(static_cast<double>(setup_.layers[l]));
        sh.y.push_back(logprob_shift(slot(l, a, k)));
        e.x.push_back(static_cast<double>(setup_.layers[l]));
        e.y.push_back(errors_topn(slot(l, a, k)));
        t.x.push_back(static_cast<double>(setup_.layers[l]));
        t.y.push_back(top1_legal(slot(l, a, k)));
      }
      errors_series.push_back(e);
      top1_series.push_back(t);
      shift_series.push_back(sh);
    }
  }
  // The unedited model's errors against the edited board: what "no effect" looks like.
  double none = 0, none_t1 = 0, none_flipped = 0;
  for (std::size_t c = 0; c < cases_.size(); ++c) {
    none_flipped += clean_outcome_[c].errors_flipped;
    none += errors(clean_outcome_[c].topn, cases_[c].legal_edited);
    none_t1 += has(cases_[c].legal_edited, clean_[c].top1);
  }
  none /= static_cast<double>(cases_.size());
  none_t1 /= static_cast<double>(cases_.size());
  none_flipped /= static_cast<double>(cases_.size());
  report::Series flat{"no edit", {}, {}, {}, "black"}, flat_t1 = flat;
  for (std::size_t l = 0; l < L; ++l) {
    flat.x.push_back(static_cast<double>(setup_.layers[l]));
    flat.y.push_back(none);
    flat_t1.x.push_back(static_cast<double>(setup_.layers[l]));
    flat_t1.y.push_back(none_t1);
  }
  errors_series.push_back(flat);
  top1_series.push_back(flat_t1);
  const std::string what = fmt::format(
      "{} cases: one disc flipped in the mine/theirs frame at blocks.L.hook_{} of the case's "
      "position ({} along the probe's mine - theirs direction), the model run on",
      cases_.size(), setup_.hook_kind,
      setup_.mode == "reflect" ? "component -> -alpha x component"
                               : "alpha x unit direction added");
  report::Figure shift_fig = report::line_chart(
      "shift_by_layer", shift_series,
      {"Intervention success: do the predictions follow the edited board?", "layer edited",
       "log-prob shift (newly legal - newly illegal)"},
      what +
          "; mean log-prob change of the moves the flip makes legal minus that of the moves it "
          "makes illegal (0: no effect; > 0: the model plays on the edited board). Gray: a "
          "random direction, displacement of the same norm. Dataset metrics/logprob_shift.");
  shift_fig.related = {"errors_by_layer", "top1_by_layer", "summary"};
  report::write_figure(root, shift_fig);
  report::Figure errors_fig = report::line_chart(
      "errors_by_layer", errors_series,
      {"Intervention: errors vs the edited board's legal moves", "layer edited",
       "mean |top-n ^ legal| (n = legal moves)"},
      what +
          "; errors between its top-n moves and the legal moves of the edited board (engine). "
          "Gray: a random direction, displacement of the same norm. Black: no edit. Dataset "
          "metrics/errors_topn.");
  errors_fig.related = {"top1_by_layer", "summary"};
  report::write_figure(root, errors_fig);
  report::Figure top1_fig = report::line_chart(
      "top1_by_layer", top1_series,
      {"Intervention: top-1 move legal on the edited board", "layer edited", "fraction"},
      what +
          "; fraction whose most likely move is legal on the edited board. Dataset "
          "metrics/top1_legal.");
  top1_fig.related = {"errors_by_layer"};
  report::write_figure(root, top1_fig);

  std::vector<std::vector<std::string>> rows;
  std::size_t best = 0;
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t a = 0; a < A; ++a) {
      const std::size_t p = slot(l, a, 0), r = slot(l, a, 1);
      if (logprob_shift(p) > logprob_shift(best)) best = p;
      rows.push_back(
          {std::to_string(setup_.layers[l]), fmt::format("{}", setup_.alphas[a]),
           fmt::format("{:.3f}", logprob_shift(p)), fmt::format("{:.3f}", logprob_shift(r)),
           fmt::format("{:.2f}", errors_flipped(p)), fmt::format("{:.2f}", errors_flipped(r)),
           fmt::format("{:.3f}", top1_legal(p)), fmt::format("{:.3f}", top1_legal(r)),
           fmt::format("{:.2f}", errors_topn(p)), fmt::format("{:.2f}", errors_topn(r)),
           fmt::format("{:.2f}", errors_threshold(p)), fmt::format("{:.2f}", errors_threshold(r)),
           fmt::format("{:.2f}", changed_topn(p)), fmt::format("{:.2f}", changed_topn(r))});
    }
  report::write_figure(
      root,
      report::table("summary", "Probe intervention by layer and alpha",
                    {"layer", "alpha", "log-prob shift (probe)", "(random)",
                     "errors on flipped moves (probe)", "(random)", "top-1 legal (probe)",
                     "(random)", "top-n errors (probe)", "(random)", "threshold errors (probe)",
                     "(random)", "top-n changed (probe)", "(random)"},
                    rows,
                    fmt::format("Means over {} cases. Before any edit the model makes {:.2f} "
                                "top-n errors against the edited board, {:.2f} of them on "
                                "the moves the flip changes. Errors: false positives + "
                                "false negatives of the predicted legal set.",
                                cases_.size(), none, none_flipped)));

  // The first case at the best (layer, alpha): boards and move probabilities before and after.
  const Case& c = cases_.front();
  const std::size_t best_layer = best / (A * kConditions), best_alpha = (best / kConditions) % A;
  const std::string where =
      fmt::format("game {}, after move {}, square {} flipped {}", c.game, c.position,
                  report::square_label(c.square), c.was_mine ? "mine -> theirs" : "theirs -> mine");
  report::write_figure(
      root, report::othello_board("example_board_real", position_of(c.original, c.last_move),
                                  "Real board: " + where, "Dots: legal moves of the real board."));
  report::write_figure(
      root, report::othello_board("example_board_edited", position_of(c.edited, c.last_move),
                                  "Edited board: " + where,
                                  "Dots: legal moves of the edited board (engine)."));
  report::HeatmapOptions probs;
  probs.scale = report::ColorScale::Blues;
  probs.zmin = 0.0;
  probs.colorbar_title = "p";
  report::write_figure(root, report::board_heatmap("example_probs_before", board_of(example_clean),
                                                   "Move probabilities, no edit: " + where, probs,
                                                   "The unedited model's next-move distribution."));
  report::Figure after = report::board_heatmap(
      "example_probs_after", board_of(example_edited[best]),
      fmt::format("Move probabilities, edited at layer {} (alpha {}): {}",
                  setup_.layers[best_layer], setup_.alphas[best_alpha], where),
      probs,
      "The edited model's next-move distribution (the layer and alpha with the largest "
      "mean log-prob shift).");
  after.related = {"example_board_real", "example_board_edited", "example_probs_before"};
  report::write_figure(root, after);
}

}  // namespace othrun::probe_intervention
