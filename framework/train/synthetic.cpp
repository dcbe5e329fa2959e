#include <othrun/train/synthetic.hpp>

#include <othrun/othello.hpp>

#include <array>
#include <span>

namespace othrun::train {

namespace oth = othrun::othello;
inline constexpr std::int64_t kCols = oth::kMaxGameLength;

GameRows GameStream::draw(std::uint64_t cursor, std::int64_t count) const {
  GameRows rows;
  rows.count = count;
  rows.tokens.assign(static_cast<std::size_t>(count * kCols), oth::kPaddingToken);
  std::array<std::int8_t, oth::kMaxGameLength> squares{};
  for (std::int64_t g = 0; g < count; ++cursor) {
    oth::SplitMix64 rng(oth::game_seed(seed_, cursor));
    const int length = oth::random_game(rng, squares);
    if (full_only_ && length != oth::kMaxGameLength) continue;
    for (int t = 0; t < length; ++t) {
      rows.tokens[static_cast<std::size_t>(g * kCols + t)] =
          oth::square_to_token(squares[static_cast<std::size_t>(t)]);
    }
    ++g;
  }
  rows.next_cursor = cursor;
  return rows;
}

LegalCount count_legal_top1(const std::vector<std::int64_t>& tokens,
                            const std::vector<std::int64_t>& predicted, std::int64_t n_pos) {
  LegalCount count;
  const std::int64_t games = static_cast<std::int64_t>(tokens.size()) / kCols;
  for (std::int64_t g = 0; g < games; ++g) {
    const std::int64_t* game = tokens.data() + g * kCols;
    oth::Position position = oth::Position::start();
    for (std::int64_t t = 0; t < n_pos && t + 1 < kCols && game[t + 1] != oth::kPaddingToken; ++t) {
      position.play(oth::token_to_square(static_cast<int>(game[t])));
      const int guess = oth::token_to_square(
          static_cast<int>(predicted[static_cast<std::size_t>(g * n_pos + t)]));
      count.legal += position.is_valid(guess) ? 1 : 0;
      ++count.total;
    }
  }
  return count;
}

}  // namespace othrun::train
