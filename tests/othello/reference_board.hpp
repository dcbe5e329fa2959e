// A deliberately naive Othello board for cross-checking the bitboard engine: an int8 array and
// square-by-square direction walks, written after the reference OthelloBoardState (umpire(),
// get_valid_moves()) rather than after the engine.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace othrun::test {

class ReferenceBoard {
 public:
  ReferenceBoard() {
    cells_.fill(0);
    cells_[27] = -1;
    cells_[28] = 1;
    cells_[35] = 1;
    cells_[36] = -1;
  }

  int cell(int square) const { return cells_[static_cast<std::size_t>(square)]; }
  int next_color() const { return next_; }

  // Squares flipped if `color` plays `square` (empty when the move is illegal for `color`).
  std::vector<int> flips_for(int square, int color) const {
    std::vector<int> flipped;
    if (cell(square) != 0) return flipped;
    const int row = square / 8, col = square % 8;
    for (int dr = -1; dr <= 1; ++dr) {
      for (int dc = -1; dc <= 1; ++dc) {
        if (dr == 0 && dc == 0) continue;
        std::vector<int> line;
        int r = row + dr, c = col + dc;
        while (r >= 0 && r < 8 && c >= 0 && c < 8 && cell(r * 8 + c) == -color) {
          line.push_back(r * 8 + c);
          r += dr;
          c += dc;
        }
        if (!line.empty() && r >= 0 && r < 8 && c >= 0 && c < 8 && cell(r * 8 + c) == color) {
          flipped.insert(flipped.end(), line.begin(), line.end());
        }
      }
    }
    return flipped;
  }

  std::vector<int> legal_for(int color) const {
    std::vector<int> moves;
    for (int s = 0; s < 64; ++s) {
      if (!flips_for(s, color).empty()) moves.push_back(s);
    }
    return moves;
  }

  // get_valid_moves(): the side to move's moves, else the opponent's.
  std::vector<int> valid_moves() const {
    auto moves = legal_for(next_);
    return moves.empty() ? legal_for(-next_) : moves;
  }

  // umpire(): plays for the side to move, or for the opponent when only the opponent can play it.
  // Returns the flipped squares; empty when the move is illegal for both.
  std::vector<int> play(int square) {
    auto flipped = flips_for(square, next_);
    if (flipped.empty()) {
      flipped = flips_for(square, -next_);
      if (flipped.empty()) return flipped;
      next_ = -next_;
    }
    cells_[static_cast<std::size_t>(square)] = static_cast<std::int8_t>(next_);
    for (int s : flipped) cells_[static_cast<std::size_t>(s)] = static_cast<std::int8_t>(next_);
    next_ = -next_;
    return flipped;
  }

 private:
  std::array<std::int8_t, 64> cells_{};
  int next_ = 1;
};

}  // namespace othrun::test
