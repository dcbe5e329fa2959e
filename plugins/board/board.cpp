// board: the Othello position after a chosen move of chosen games, as report figures. Discs are
// black/white squares, the move just played is ringed and the valid moves are dotted.
//
// It reads the documented datasets of a games product directly (framework/include/othrun/games.hpp:
// squares int8, black/white/valid uint64 bitboards, [N, 60]), one row per position asked for.
#include <othrun/error.hpp>
#include <othrun/plugin.hpp>
#include <othrun/report.hpp>

#include <fmt/format.h>

#include "position_list.hpp"

namespace {

namespace report = othrun::report;
using board_plugin::GamePly;

// One row (60 positions) of a [N, 60] dataset, for game `game`.
template <class T>
std::vector<T> game_row(const othrun::Group& root, const char* name, std::uint64_t game) {
  const othrun::Dataset dataset = root.dataset(name);
  if (game >= dataset.rows()) {
    throw othrun::DataError(fmt::format("game {} is out of range: the games product has {} games",
                                        game, dataset.rows()));
  }
  return dataset.read_rows<T>(game, 1);
}

report::Position read_position(const othrun::Group& games, const GamePly& at) {
  const auto squares = game_row<std::int8_t>(games, "squares", at.game);
  if (squares.at(at.ply) < 0) {
    throw othrun::DataError(
        fmt::format("game {} has no move {} (it ended earlier)", at.game, at.ply));
  }
  const std::uint64_t black = game_row<std::uint64_t>(games, "black", at.game).at(at.ply);
  const std::uint64_t white = game_row<std::uint64_t>(games, "white", at.game).at(at.ply);
  const std::uint64_t valid = game_row<std::uint64_t>(games, "valid", at.game).at(at.ply);
  report::Position position;
  for (int s = 0; s < 64; ++s) {
    const std::uint64_t bit = std::uint64_t{1} << s;
    position.cells[s] = (black & bit) ? 1 : (white & bit) ? -1 : 0;
    if (valid & bit) position.valid_moves.push_back(s);
  }
  position.last_move = squares[at.ply];
  return position;
}

class Board : public othrun::Step {
 public:
  static constexpr const char* kName = "board";
  static constexpr const char* kVersion = "1.0.0";

  static othrun::Schema describe() {
    othrun::Schema schema("Draws the board of chosen (game, ply) positions as report figures");
    schema.input("games", "games", "games", "the games product to read positions from");
    schema.texts("boards", std::vector<std::string>{"game 0 ply 29"},
                 "boards to draw, each \"game G ply P\": the board after move P (0..59) of game "
                 "G, as the notebooks' focus_states[G, P]");
    schema.retired("positions",
                   "renamed 'boards', each entry \"game G ply P\" (e.g. \"game 4 ply 20\" for "
                   "\"4:20\"); 'positions' always means a range of model positions elsewhere");
    schema.provides("figures");
    return schema;
  }

  static void validate(const othrun::Config& config) {
    board_plugin::parse_positions(config.get_strings("boards"));
  }

  explicit Board(const othrun::Config& config)
      : positions_(board_plugin::parse_positions(config.get_strings("boards"))) {}

  void run(othrun::RunContext& ctx) override {
    const othrun::Product& games = ctx.input("games");
    for (const GamePly& at : positions_) {
      const report::Position position = read_position(games.root(), at);
      const std::string title = fmt::format("Game {} after move {} ({})", at.game, at.ply,
                                            report::square_label(position.last_move));
      const std::string caption = fmt::format(
          "Board of game {} of '{}' after move {}: black and white discs, the move just played "
          "ringed in red, the valid moves of the side to move dotted.",
          at.game, games.label(), at.ply);
      report::write_figure(ctx.output().root(),
                           report::othello_board(fmt::format("game{}_ply{}", at.game, at.ply),
                                                 position, title, caption));
    }
  }

 private:
  std::vector<GamePly> positions_;
};

}  // namespace

OTHRUN_PLUGIN(Board)
