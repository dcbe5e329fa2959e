#include "cases.hpp"

#include <othrun/error.hpp>

#include <algorithm>
#include <set>
#include <tuple>

namespace othrun::probe_intervention {

namespace {

using othello::Bitboard;
using othello::Color;

// The board after move t of `game` with `square`'s disc turned over, the same side to move.
// nullopt when that side has no legal move there (the position would be a pass or the end).
std::optional<othello::Position> flipped(const othello::Position& p, int square) {
  const Bitboard bit = othello::square_bit(square);
  const othello::Position edited(p.black() ^ bit, p.white() ^ bit, p.to_move());
  if (edited.to_move() != p.to_move()) return std::nullopt;
  return edited;
}

}  // namespace

CaseSelection select_cases(const games::GameBatch& games, const CaseRequest& request,
                           std::mt19937_64& rng) {
  CaseSelection out;
  // (game, t) pairs with a next move: t <= length - 2, within [first, stop), the model's 59.
  std::vector<std::pair<std::uint64_t, int>> slots;
  for (std::uint64_t g = 0; g < games.count; ++g) {
    const int last = std::min<int>(games.length(g) - 2, static_cast<int>(request.stop) - 1);
    for (int t = static_cast<int>(request.first); t <= std::min(last, games::kPositions - 2); ++t)
      slots.push_back({g, t});
  }
  if (slots.empty()) return out;
  std::set<std::tuple<std::uint64_t, int, int>> seen;
  std::uniform_int_distribution<std::size_t> pick_slot(0, slots.size() - 1);
  const std::uint64_t max_attempts = 50 * request.cases;
  while (out.cases.size() < request.cases && out.attempts < max_attempts) {
    ++out.attempts;
    const auto [g, t] = slots[pick_slot(rng)];
    const othello::Position p = games.position(g, t);
    const Bitboard occupied = p.black() | p.white();
    std::uniform_int_distribution<int> pick_disc(0, othello::count(occupied) - 1);
    int k = pick_disc(rng), square = 0;
    for (Bitboard b = occupied;; b &= b - 1) {
      if (k-- == 0) {
        square = std::countr_zero(b);
        break;
      }
    }
    if (!seen.insert({g, t, square}).second) {
      ++out.skipped_duplicate;
      continue;
    }
    const auto edited = flipped(p, square);
    if (!edited) {
      ++out.skipped_no_move;
      continue;
    }
    if (request.require_change && edited->valid_moves() == p.valid_moves()) {
      ++out.skipped_unchanged;
      continue;
    }
    Case c;
    c.game = g;
    c.position = t;
    c.square = square;
    c.was_mine = p.at(square) == p.to_move();
    c.legal_original = p.valid_moves();
    c.legal_edited = edited->valid_moves();
    c.original = p;
    c.edited = *edited;
    c.last_move = games.squares[games::GameBatch::index(g, t)];
    out.cases.push_back(c);
  }
  return out;
}

}  // namespace othrun::probe_intervention
