// The two encodings of game records in board_seqs_*.npy files, their decoding to squares, and
// the detection of which one a file uses.
//
//   int     model tokens 1..60 over the non-centre squares; 0 is padding after a game's end
//   string  square indices 0..63 (never 27, 28, 35, 36); a negative value is padding
//
// Detection: the legal first moves are C3 D2 E5 F4, i.e. squares 19 26 37 44 but tokens
// 20 27 34 41. Those sets are disjoint, so every game's first value alone says which encoding can
// be right; a file is given the encoding under which every value is in range and every game opens
// legally. No file with at least one game can satisfy both.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace othrun::games_plugin {

enum class Encoding { Int, String };

const char* to_string(Encoding encoding);  // "int", "string"
std::optional<Encoding> parse_encoding(std::string_view text);

inline constexpr int kPadding = -1;   // decode(): the value is padding
inline constexpr int kNotAMove = -2;  // decode(): the value is not a move in this encoding

// The square a value stands for, kPadding, or kNotAMove.
int decode(Encoding encoding, std::int64_t value);
// "1..60 (0 = padding)" or "0..63 except 27 28 35 36 (negative = padding)": for messages.
const char* describe_values(Encoding encoding);

// Why `row` (game `game` of a file) cannot be in `encoding`, or nullopt when it can: a value that
// is not a move or padding, or a first value that is not a legal first move.
std::optional<std::string> inconsistency(Encoding encoding, std::span<const std::int64_t> row,
                                         std::uint64_t game);

// Tracks, over the rows of a file, whether each encoding stays possible.
class EncodingDetector {
 public:
  void add_row(std::span<const std::int64_t> row, std::uint64_t game);
  // The one possible encoding, or nullopt; `explanation` says why.
  std::optional<Encoding> result(std::string& explanation) const;

 private:
  std::optional<std::string> int_problem_;
  std::optional<std::string> string_problem_;
  std::uint64_t rows_ = 0;
};

}  // namespace othrun::games_plugin
