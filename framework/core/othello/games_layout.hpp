// Names, types and descriptions of the datasets of a games product: the one place the layout
// of docs/games.md is spelled out in code, shared by GamesWriter and GamesReader.
#pragma once

#include <othrun/dtype.hpp>

#include <array>

namespace othrun::games::layout {

// Root attributes.
inline constexpr const char* kFormatAttr = "format";
inline constexpr const char* kFormatVersionAttr = "format_version";
inline constexpr const char* kNumGamesAttr = "num_games";
inline constexpr const char* kPositionsAttr = "positions";
inline constexpr const char* kMineTheirsAttr = "mine_theirs";
inline constexpr const char* kDenseAttr = "dense";
inline constexpr const char* kBitOrderAttr = "bit_order";
inline constexpr const char* kBitOrder =
    "bit s of a uint64 board (the value 1 << s) is square s = row * 8 + col";
inline constexpr const char* kDocAttr = "doc";

// Per-game and per-position datasets.
inline constexpr const char* kTokens = "tokens";
inline constexpr const char* kSquares = "squares";
inline constexpr const char* kLength = "length";
inline constexpr const char* kBlack = "black";
inline constexpr const char* kWhite = "white";
inline constexpr const char* kValid = "valid";
inline constexpr const char* kFlipped = "flipped";
inline constexpr const char* kToMove = "to_move";
inline constexpr const char* kMover = "mover";
inline constexpr const char* kMine = "mine";

struct DatasetDoc {
  const char* name;
  const char* doc;
};

inline constexpr std::array<DatasetDoc, 10> kDocs = {{
    {kTokens, "model token 1..60 of move t; 0 after the game's end"},
    {kSquares, "square 0..63 (row * 8 + col) of move t; -1 after the game's end"},
    {kLength, "number of moves of the game"},
    {kBlack, "bitboard of black discs after move t"},
    {kWhite, "bitboard of white discs after move t"},
    {kValid, "bitboard of the valid moves after move t (of the real side to move)"},
    {kFlipped, "bitboard of the discs flipped by move t"},
    {kToMove, "side to move after move t with passes applied: +1 black, -1 white, 0 game over"},
    {kMover, "colour that played move t: +1 black, -1 white; 0 after the game's end"},
    {kMine, "colour of 'mine' after move t under the mine_theirs attribute's convention"},
}};

// Dense arrays (WriterOptions::dense), int8 [N, 60, 8, 8].
inline constexpr const char* kDenseGroup = "dense";
inline constexpr std::array<DatasetDoc, 4> kDenseDocs = {{
    {"board", "+1 black, -1 white, 0 empty after move t"},
    {"relative", "+1 mine, -1 theirs, 0 empty after move t (mine_theirs convention)"},
    {"valid", "1 where a move is valid after move t"},
    {"flipped", "1 where move t flipped a disc"},
}};

}  // namespace othrun::games::layout
