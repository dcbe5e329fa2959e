// sae_intervention's measurements: per edited feature, the mean change of every move's log-prob
// (as a board) and of the linear probe's reading of every square downstream, over all rows and
// over the rows where the feature fired in the clean run; their storage and figures.
#pragma once

#include <othrun/store.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::sae_intervention {

// Why a feature was edited: given in `features`, or a top feature of (square, state) by `score`.
struct Chosen {
  std::int64_t feature = 0;
  int square = -1;  // -1: given explicitly
  int state = -1;   // 0 empty, 1 theirs, 2 mine
  double score = 0;
};

class Effects {
 public:
  Effects(std::vector<Chosen> chosen, bool with_probe);

  const std::vector<Chosen>& chosen() const { return chosen_; }
  // One row (game, position) of feature i's edited run. `clean_lp`/`edited_lp`: 61 log-probs;
  // probe probabilities [64, 3] (null without a probe); `fired`: the feature > 0 in the clean run.
  void add(std::size_t i, const float* clean_lp, const float* edited_lp, const float* clean_probe,
           const float* edited_probe, bool fired);

  // Writes the datasets and figures under `root`. `what` describes the edit for captions.
  void write(Group& root, const std::string& what) const;

 private:
  std::vector<Chosen> chosen_;
  bool with_probe_;
  // Per feature and set (0 all rows, 1 fired rows): sums and counts.
  std::vector<double> lp_sum_;       // [F, 2, 64]
  std::vector<double> probe_sum_;    // [F, 2, 64, 3]: change of the class probabilities
  std::vector<double> flip_sum_;     // [F, 2, 64]: argmax changed
  std::vector<std::uint64_t> rows_;  // [F, 2]
};

}  // namespace othrun::sae_intervention
