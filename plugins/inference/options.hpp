// The inference plugin's parameters, parsed from its validated config (no LibTorch here).
#pragma once

#include <othrun/schema.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace othrun::inference {

struct PositionRange {
  std::int64_t begin = 0;
  std::int64_t end = -1;  // -1: to the last position
};

struct Options {
  std::filesystem::path model;
  gpt::LoadOptions load;
  std::vector<std::string> hooks;  // as written (full names or shorthand)
  PositionRange positions;
  bool float16 = false;
  gpt::LogitsOutput logits = gpt::LogitsOutput::None;
  std::int64_t batch_games = 100;
  std::int64_t max_games = 0;  // 0: all
  std::int64_t board_game = 0;
  std::int64_t board_moves = 30;  // 0: no log-prob board
};

Schema describe_schema();
// The datasets a step with `config` writes: one per hook, logits, the log-prob board.
DatasetDecls produces_datasets(const Config& config);
// Cross-parameter and syntax checks, before anything runs (throws ConfigError).
void validate_config(const Config& config);
Options parse_options(const Config& config);

// "all" -> [0, -1); "5:54" -> [5, 54); ":54", "5:" as Python slices (no negative numbers).
// Throws ConfigError("positions", ...) on anything else.
PositionRange parse_positions(const std::string& text);

}  // namespace othrun::inference
