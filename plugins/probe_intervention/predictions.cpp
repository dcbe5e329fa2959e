#include "predictions.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace othrun::probe_intervention {

Prediction predict(const float* log_probs) {
  Prediction p;
  std::fill(std::begin(p.log_probs), std::end(p.log_probs),
            -std::numeric_limits<float>::infinity());
  int tokens[60];
  std::iota(std::begin(tokens), std::end(tokens), 1);
  std::stable_sort(std::begin(tokens), std::end(tokens),
                   [&](int a, int b) { return log_probs[a] > log_probs[b]; });
  for (int i = 0; i < 60; ++i) {
    const int square = othello::token_to_square(tokens[i]);
    p.order[i] = square;
    p.log_probs[square] = log_probs[tokens[i]];
  }
  p.top1 = p.order[0];
  return p;
}

othello::Bitboard Prediction::top(int n) const {
  othello::Bitboard out = 0;
  for (int i = 0; i < std::min(n, 60); ++i) out |= othello::square_bit(order[i]);
  return out;
}

othello::Bitboard Prediction::above(double threshold) const {
  othello::Bitboard out = 0;
  for (int i = 0; i < 60; ++i) {
    if (log_probs[order[i]] > threshold) out |= othello::square_bit(order[i]);
  }
  return out;
}

}  // namespace othrun::probe_intervention
