// Decoding and detection of the int / string game encodings.
#include "encoding.hpp"

#include <othrun/othello.hpp>

#include <fmt/format.h>

namespace othrun::games_plugin {

namespace {

// Whether `square` is a legal first move (from the start position, black to move).
bool is_opening(int square) { return othello::Position::start().is_valid(square); }

std::string openings(Encoding encoding) {
  std::string text;
  othello::Bitboard moves = othello::Position::start().valid_moves();
  while (moves != 0) {
    const int square = std::countr_zero(moves);
    moves &= moves - 1;
    const int value = encoding == Encoding::Int ? othello::square_to_token(square) : square;
    text += fmt::format("{}{}", text.empty() ? "" : " ", value);
  }
  return text;
}

}  // namespace

const char* to_string(Encoding encoding) { return encoding == Encoding::Int ? "int" : "string"; }

std::optional<Encoding> parse_encoding(std::string_view text) {
  if (text == "int") return Encoding::Int;
  if (text == "string") return Encoding::String;
  return std::nullopt;
}

int decode(Encoding encoding, std::int64_t value) {
  if (encoding == Encoding::Int) {
    if (value == othello::kPaddingToken) return kPadding;
    const int square = value > 0 && value <= othello::kNumTokens
                           ? othello::token_to_square(static_cast<int>(value))
                           : othello::kNoSquare;
    return square == othello::kNoSquare ? kNotAMove : square;
  }
  if (value < 0) return kPadding;
  return othello::is_move_square(static_cast<int>(std::min<std::int64_t>(value, 64)))
             ? static_cast<int>(value)
             : kNotAMove;
}

const char* describe_values(Encoding encoding) {
  return encoding == Encoding::Int ? "1..60 (0 = padding)"
                                   : "0..63 except 27 28 35 36 (negative = padding)";
}

std::optional<std::string> inconsistency(Encoding encoding, std::span<const std::int64_t> row,
                                         std::uint64_t game) {
  for (std::size_t ply = 0; ply < row.size(); ++ply) {
    if (decode(encoding, row[ply]) == kNotAMove) {
      return fmt::format("game {}, ply {}: value {} is outside {}", game, ply, row[ply],
                         describe_values(encoding));
    }
  }
  const int first = row.empty() ? kPadding : decode(encoding, row[0]);
  if (!is_opening(first)) {
    return fmt::format("game {} opens with {}, and the first move must be one of {}", game,
                       row.empty() ? 0 : row[0], openings(encoding));
  }
  return std::nullopt;
}

void EncodingDetector::add_row(std::span<const std::int64_t> row, std::uint64_t game) {
  ++rows_;
  if (!int_problem_) int_problem_ = inconsistency(Encoding::Int, row, game);
  if (!string_problem_) string_problem_ = inconsistency(Encoding::String, row, game);
}

std::optional<Encoding> EncodingDetector::result(std::string& explanation) const {
  if (rows_ == 0) {
    explanation = "the file has no games to tell the encoding from";
    return std::nullopt;
  }
  if (int_problem_ && string_problem_) {
    explanation = fmt::format("neither encoding fits: not int ({}); not string ({})", *int_problem_,
                              *string_problem_);
    return std::nullopt;
  }
  const Encoding encoding = int_problem_ ? Encoding::String : Encoding::Int;
  explanation = fmt::format("every value is in {}, and every game opens with one of {}",
                            describe_values(encoding), openings(encoding));
  return encoding;
}

}  // namespace othrun::games_plugin
