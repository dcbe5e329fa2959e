// The notebook's log-prob board: next-move log-probs after a game prefix, on the 8x8 board.
#pragma once

#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace othrun::inference {

// What the notebook shows for the four centre squares, which are never moves.
inline constexpr float kCentreValue = -13.0f;

struct LogProbBoard {
  std::array<float, 64> log_probs{};    // square s = row * 8 + col
  std::array<std::uint8_t, 64> mask{};  // 1: centre square (no move, value kCentreValue)
};

// The board of one position's log-probs (log_softmax over the d_vocab_out logits): token 0
// (padding) dropped, tokens 1..60 scattered to their squares.
LogProbBoard board_from_log_probs(const std::vector<float>& log_probs);

// The request for the board: log-probs at the last position of a `moves`-token prefix.
gpt::RunRequest board_request(std::int64_t moves);

// Writes logprob_board/log_probs float32 [8, 8], logprob_board/mask uint8 [8, 8] and the figure
// figures/logprob_board ("Example Log Probs").
void write_board(Group& root, const LogProbBoard& board, std::int64_t game, std::int64_t moves);

}  // namespace othrun::inference
