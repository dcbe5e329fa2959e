// probe_intervention's results: per case and per (layer, alpha, condition) predictions, the mean
// metrics of docs/interventions.md, their storage and figures.
#pragma once

#include "cases.hpp"
#include "predictions.hpp"

#include <othrun/store.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace othrun::probe_intervention {

inline constexpr int kConditions = 2;  // 0: along the probe direction, 1: random direction
inline constexpr std::array<const char*, kConditions> kConditionNames = {"probe", "random"};

struct Setup {
  std::string hook_kind;  // resid_pre, resid_mid, resid_post
  std::string mode;       // reflect, add
  std::vector<std::int64_t> layers;
  std::vector<double> alphas;
  double threshold = 0;  // log-prob threshold of the predicted legal set
};

// What one prediction contributes to the metrics.
struct Outcome {
  std::int8_t top1 = -1;
  othello::Bitboard topn = 0;       // n = the number of legal moves of the edited board
  othello::Bitboard threshold = 0;  // log-prob > threshold
  // On the moves whose legality the flip changes (legal_original ^ legal_edited): top-n errors
  // against the edited board, and the mean log-prob change of the newly legal moves minus that of
  // the newly illegal ones (after - before the edit; 0 for the unedited run).
  int errors_flipped = 0;
  double shift = 0;
};

class Results {
 public:
  Results(const Setup& setup, std::vector<Case> cases);

  const Setup& setup() const { return setup_; }
  const std::vector<Case>& cases() const { return cases_; }
  std::size_t slot(std::size_t layer, std::size_t alpha, int condition) const {
    return (layer * setup_.alphas.size() + alpha) * kConditions +
           static_cast<std::size_t>(condition);
  }

  void set_clean(std::size_t c, const Prediction& p);
  void set_edited(std::size_t layer, std::size_t alpha, int condition, std::size_t c,
                  const Prediction& p);
  void set_component(std::size_t layer, std::size_t c, float component) {
    component_[layer * cases_.size() + c] = component;
  }
  // Kept for the example figure: case 0's log-probs per square, clean and per slot.
  std::vector<float> example_clean;
  std::vector<std::vector<float>> example_edited;

  // Writes metrics/, cases/, predictions/ and the figures under `root`.
  void write(Group& root) const;

  // Means over cases of one slot.
  double top1_legal(std::size_t slot) const;
  double errors_topn(std::size_t slot) const;
  double errors_threshold(std::size_t slot) const;
  double changed_topn(std::size_t slot) const;
  double errors_flipped(std::size_t slot) const;
  double logprob_shift(std::size_t slot) const;

 private:
  Outcome outcome(const Case& c, const Prediction& p, const Prediction* before) const;
  void write_figures(Group& root) const;

  Setup setup_;
  std::vector<Case> cases_;
  std::vector<Prediction> clean_;       // [cases]
  std::vector<Outcome> clean_outcome_;  // [cases], n from the edited board
  std::vector<Outcome> edited_;         // [slots, cases]
  std::vector<float> component_;        // [layers, cases]: x . unit(probe direction)
};

}  // namespace othrun::probe_intervention
