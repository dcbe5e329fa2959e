#include "logprob_board.hpp"
#include "notebook_figure.hpp"

#include <othrun/othello.hpp>
#include <othrun/report.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace othrun::inference {

LogProbBoard board_from_log_probs(const std::vector<float>& log_probs) {
  LogProbBoard board;
  for (int square = 0; square < othello::kNumSquares; ++square) {
    const int token = othello::square_to_token(square);
    board.mask[static_cast<std::size_t>(square)] = token < 0 ? 1 : 0;
    board.log_probs[static_cast<std::size_t>(square)] =
        token < 0 ? kCentreValue : log_probs.at(static_cast<std::size_t>(token));
  }
  return board;
}

gpt::RunRequest board_request(std::int64_t moves) {
  gpt::RunRequest request;
  request.logits = gpt::LogitsOutput::LogProbs;
  request.pos_begin = moves - 1;  // only the last position
  return request;
}

void write_board(Group& root, const LogProbBoard& board, std::int64_t game, std::int64_t moves) {
  Group group = root.create_group("logprob_board");
  group.attrs().set("doc",
                    "next-move log-probs after the first `moves` moves of game `game`: "
                    "log_softmax over all logits, token 0 dropped, [row, col] = square row*8+col; "
                    "centre squares (mask 1) hold -13 as in the notebook");
  group.attrs().set("game", game);
  group.attrs().set("moves", moves);
  group.attrs().set("centre_value", static_cast<double>(kCentreValue));
  Dataset values = group.create_dataset<float>("log_probs", {8, 8});
  values.write_rows<float>(0, std::span<const float>(board.log_probs));
  Dataset mask = group.create_dataset<std::uint8_t>("mask", {8, 8});
  mask.write_rows<std::uint8_t>(0, std::span<const std::uint8_t>(board.mask));

  report::Board z{};
  std::copy(board.log_probs.begin(), board.log_probs.end(), z.begin());
  report::write_figure(
      root, report::log_prob_board(
                "logprob_board", z, "Example Log Probs",
                fmt::format("Log-probabilities of the next move after the first {} moves of game "
                            "{} (log_softmax over all logits, token 0 dropped); the centre "
                            "squares are never moves and stay blank. Dataset "
                            "logprob_board/log_probs.",
                            moves, game)));
}

}  // namespace othrun::inference
