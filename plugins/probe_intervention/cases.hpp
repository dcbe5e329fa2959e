// The cases of probe_intervention: (game, position, square) whose disc is flipped in the
// mine/theirs frame, with the legal moves of the original and of the edited board. Cases whose
// edited board is no usable state (the side to move could not move) or whose flip leaves the legal
// moves unchanged (when required) are skipped and counted.
#pragma once

#include <othrun/games.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace othrun::probe_intervention {

struct Case {
  std::uint64_t game = 0;
  int position = 0;  // model position t: the board after move t; the model predicts move t + 1
  int square = 0;
  bool was_mine = false;  // the square's state before the flip (mine = the side to move)
  othello::Bitboard legal_original = 0, legal_edited = 0;
  othello::Position original = othello::Position::start();  // the boards, for figures
  othello::Position edited = othello::Position::start();
  int last_move = -1;
};

struct CaseRequest {
  std::uint64_t cases = 0;  // wanted
  std::int64_t first = 0;   // positions [first, stop)
  std::int64_t stop = 0;
  bool require_change = true;  // skip flips that leave the legal moves as they are
};

struct CaseSelection {
  std::vector<Case> cases;
  std::uint64_t attempts = 0;
  std::uint64_t skipped_no_move = 0;    // edited board: the side to move has no legal move
  std::uint64_t skipped_unchanged = 0;  // edited board: same legal moves (require_change)
  std::uint64_t skipped_duplicate = 0;
};

// Draws cases uniformly over (game, position in range with a next move, occupied square) of
// `games` (mine/theirs of the real side to move), up to 50 attempts per wanted case.
CaseSelection select_cases(const games::GameBatch& games, const CaseRequest& request,
                           std::mt19937_64& rng);

}  // namespace othrun::probe_intervention
