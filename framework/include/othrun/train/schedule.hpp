// Learning-rate schedules: linear warm-up, then constant, linear or cosine decay. No LibTorch.
#pragma once

#include <cstdint>
#include <string>

namespace othrun::train {

enum class Decay { Constant, Linear, Cosine };

// "constant", "linear", "cosine"; throws othrun::Error otherwise.
Decay parse_decay(const std::string& text);

struct Schedule {
  double lr = 1e-3;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  Decay decay = Decay::Cosine;
  double final_fraction = 0.0;  // the decayed lr ends at lr * final_fraction

  // The learning rate of step `step` (0-based): lr * (step + 1) / warmup during warm-up, then
  // decaying from lr to lr * final_fraction at total_steps.
  double at(std::int64_t step) const;
};

}  // namespace othrun::train
