// What the model predicts as legal at one position, from its 61 log-probs (token 0 is padding and
// never a move): the top-1 square, the top-n squares and the squares above a log-prob threshold,
// as bitboards, so that errors against a legal set are popcount(predicted ^ legal).
#pragma once

#include <othrun/othello.hpp>

#include <cstdint>

namespace othrun::probe_intervention {

// The move squares ranked by log-prob (ties: lower token first), from `log_probs` [61].
struct Prediction {
  int top1 = -1;
  float log_probs[64] = {};            // per square; -inf on the four centre squares
  othello::Bitboard top(int n) const;  // the n most likely squares
  othello::Bitboard above(double threshold) const;

  int order[60] = {};  // squares, most likely first
};

Prediction predict(const float* log_probs);

// |predicted ^ truth|: false positives plus false negatives.
inline int errors(othello::Bitboard predicted, othello::Bitboard truth) {
  return othello::count(predicted ^ truth);
}

}  // namespace othrun::probe_intervention
