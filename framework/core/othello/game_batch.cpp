// GameBatch: sizing and unpacking positions into per-square states.
#include <othrun/games.hpp>

namespace othrun::games {

using othello::Color;

void GameBatch::resize(std::uint64_t games) {
  count = games;
  const std::size_t cells = static_cast<std::size_t>(games) * kPositions;
  tokens.assign(cells, 0);
  squares.assign(cells, -1);
  lengths.assign(static_cast<std::size_t>(games), 0);
  black.assign(cells, 0);
  white.assign(cells, 0);
  valid.assign(cells, 0);
  flipped.assign(cells, 0);
  to_move.assign(cells, 0);
  mover.assign(cells, 0);
  mine.assign(cells, 0);
}

Color GameBatch::mine_color(std::uint64_t game, int t, othello::MineTheirs wanted) const {
  const std::size_t i = index(game, t);
  return othello::mine_color(wanted, t, static_cast<Color>(to_move[i]),
                             static_cast<Color>(mover[i]));
}

othello::Position GameBatch::position(std::uint64_t game, int t) const {
  const std::size_t i = index(game, t);
  return othello::Position(black[i], white[i], static_cast<Color>(to_move[i]));
}

void GameBatch::board(std::uint64_t game, int t, Frame frame, std::span<std::int8_t, 64> out,
                      othello::MineTheirs wanted) const {
  const std::size_t i = index(game, t);
  if (frame == Frame::BlackWhite || t >= length(game)) {
    othello::unpack(black[i], white[i], out);
    return;
  }
  const bool black_is_mine = mine_color(game, t, wanted) == Color::Black;
  othello::unpack(black_is_mine ? black[i] : white[i], black_is_mine ? white[i] : black[i], out);
}

std::vector<std::int8_t> GameBatch::boards(Frame frame) const { return boards(frame, convention); }

std::vector<std::int8_t> GameBatch::boards(Frame frame, othello::MineTheirs wanted) const {
  std::vector<std::int8_t> out(static_cast<std::size_t>(count) * kPositions * 64, 0);
  for (std::uint64_t game = 0; game < count; ++game) {
    for (int t = 0; t < length(game); ++t) {
      board(game, t, frame, std::span<std::int8_t, 64>(out.data() + index(game, t) * 64, 64),
            wanted);
    }
  }
  return out;
}

}  // namespace othrun::games
