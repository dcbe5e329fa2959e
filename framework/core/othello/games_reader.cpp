// GamesReader: opens a games product, checks its format, and reads batches of games.
#include <othrun/error.hpp>
#include <othrun/games.hpp>

#include <fmt/format.h>

#include "othello/games_layout.hpp"

namespace othrun::games {

namespace {

template <class T>
void read_rows(const Group& root, const char* name, std::uint64_t first, std::uint64_t count,
               std::vector<T>& out) {
  out = root.dataset(name).read_rows<T>(first, count);
}

}  // namespace

GamesReader::GamesReader(const Group& root, std::string name)
    : root_(root), name_(std::move(name)) {
  const auto attrs = root.attrs();
  const std::string format =
      attrs.has(layout::kFormatAttr) ? attrs.get_string(layout::kFormatAttr) : "";
  if (format != kFormat) {
    throw DataError(
        fmt::format("{} is not a games product (its format attribute is '{}', "
                    "expected '{}')",
                    name_, format, kFormat));
  }
  const std::int64_t version = attrs.get_int(layout::kFormatVersionAttr);
  if (version < 1 || version > kFormatVersion) {
    throw DataError(fmt::format("{}: games format version {} is not one this othrun reads (1..{})",
                                name_, version, kFormatVersion));
  }
  num_games_ = static_cast<std::uint64_t>(attrs.get_int(layout::kNumGamesAttr));
  const std::string convention = attrs.get_string(layout::kMineTheirsAttr);
  const auto parsed = othello::parse_mine_theirs(convention);
  if (!parsed) {
    throw DataError(fmt::format("{}: unknown mine_theirs convention '{}'", name_, convention));
  }
  convention_ = *parsed;
}

GameBatch GamesReader::read(std::uint64_t first, std::uint64_t count) const {
  if (first > num_games_ || count > num_games_ - first) {
    throw Error(fmt::format("{}: games [{}, {}) requested; it has {}", name_, first, first + count,
                            num_games_));
  }
  GameBatch batch;
  batch.first = first;
  batch.count = count;
  batch.convention = convention_;
  read_rows(root_, layout::kTokens, first, count, batch.tokens);
  read_rows(root_, layout::kSquares, first, count, batch.squares);
  read_rows(root_, layout::kLength, first, count, batch.lengths);
  read_rows(root_, layout::kBlack, first, count, batch.black);
  read_rows(root_, layout::kWhite, first, count, batch.white);
  read_rows(root_, layout::kValid, first, count, batch.valid);
  read_rows(root_, layout::kFlipped, first, count, batch.flipped);
  read_rows(root_, layout::kToMove, first, count, batch.to_move);
  read_rows(root_, layout::kMover, first, count, batch.mover);
  read_rows(root_, layout::kMine, first, count, batch.mine);
  return batch;
}

std::vector<std::int8_t> GamesReader::tokens(std::uint64_t first, std::uint64_t count) const {
  return root_.dataset(layout::kTokens).read_rows<std::int8_t>(first, count);
}

}  // namespace othrun::games
