#include <othrun/train/schedule.hpp>

#include <othrun/error.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace othrun::train {

Decay parse_decay(const std::string& text) {
  if (text == "constant") return Decay::Constant;
  if (text == "linear") return Decay::Linear;
  if (text == "cosine") return Decay::Cosine;
  throw Error("unknown lr decay '" + text + "' (constant, linear, cosine)");
}

double Schedule::at(std::int64_t step) const {
  if (step < warmup_steps)
    return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const std::int64_t span = std::max<std::int64_t>(1, total_steps - warmup_steps);
  const double progress =
      std::clamp(static_cast<double>(step - warmup_steps) / static_cast<double>(span), 0.0, 1.0);
  double factor = 1.0;  // of the way from lr (1) to lr * final_fraction (0)
  switch (decay) {
    case Decay::Constant:
      return lr;
    case Decay::Linear:
      factor = 1.0 - progress;
      break;
    case Decay::Cosine:
      factor = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
      break;
  }
  return lr * (final_fraction + (1.0 - final_fraction) * factor);
}

}  // namespace othrun::train
