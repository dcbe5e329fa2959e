// Importing game records from .npy files.
#include "npy_source.hpp"

#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/othello.hpp>

#include <fmt/format.h>

namespace othrun::games_plugin {

namespace {

constexpr std::uint64_t kMoves = othello::kMaxGameLength;
constexpr std::uint64_t kDetectRows = 16384;  // rows read at a time while detecting

}  // namespace

NpySource::NpySource(NpyOptions options) : options_(std::move(options)), reader_(options_.path) {
  const auto& shape = reader_.header().shape;
  if (shape.size() != 2 || shape[1] == 0 || shape[1] > kMoves) {
    fail(
        fmt::format("expected a 2-D array [games, moves] with 1 to 60 moves per game; the shape "
                    "is {}",
                    npy::format_shape(shape)));
  }
  moves_ = shape[1];
  games_ = shape[0];
  if (options_.games) {
    if (*options_.games > games_) {
      fail(fmt::format("`games: {}` asks for more games than the file's {}", *options_.games,
                       games_));
    }
    games_ = *options_.games;
  }
  if (games_ == 0) fail("the file holds no games");
  if (options_.encoding) {
    encoding_ = *options_.encoding;
  } else {
    encoding_ = detect();
    detected_ = true;
  }
}

void NpySource::fail(const std::string& what) const {
  throw DataError(fmt::format("{}: {}", options_.path.string(), what));
}

std::optional<Encoding> NpySource::fitting_encoding(std::string& explanation) {
  EncodingDetector detector;
  for (std::uint64_t first = 0; first < games_; first += kDetectRows) {
    const std::uint64_t count = std::min(kDetectRows, games_ - first);
    values_ = reader_.read_rows<std::int64_t>(first, count);
    for (std::uint64_t row = 0; row < count; ++row) {
      detector.add_row(std::span(values_).subspan(row * moves_, moves_), first + row);
    }
  }
  return detector.result(explanation);
}

Encoding NpySource::detect() {
  std::string explanation;
  const auto encoding = fitting_encoding(explanation);
  if (!encoding) {
    fail(fmt::format("cannot tell the encoding: {}; declare `encoding: int` or `encoding: string`",
                     explanation));
  }
  log::info("games: {}: detected the '{}' encoding ({})", options_.path.string(),
            to_string(*encoding), explanation);
  return *encoding;
}

void NpySource::next(std::uint64_t count, std::vector<std::int8_t>& squares) {
  values_ = reader_.read_rows<std::int64_t>(cursor_, count);
  squares.assign(count * kMoves, -1);
  for (std::uint64_t row = 0; row < count; ++row) {
    for (std::uint64_t ply = 0; ply < moves_; ++ply) {
      const std::int64_t value = values_[row * moves_ + ply];
      const int square = decode(encoding_, value);
      if (square == kNotAMove) {
        fail(fmt::format("game {}, ply {}: value {} is not a move in the {} encoding: {}{}",
                         cursor_ + row, ply, value, to_string(encoding_),
                         describe_values(encoding_), error_hint()));
      }
      squares[row * kMoves + ply] = static_cast<std::int8_t>(square);
    }
  }
  cursor_ += count;
}

std::string NpySource::error_hint() {
  if (detected_) return "";
  std::string explanation;
  const auto fitting = fitting_encoding(explanation);
  if (!fitting || *fitting == encoding_) return "";
  return fmt::format("; the file looks like the '{}' encoding ({}): check `encoding`",
                     to_string(*fitting), explanation);
}

void NpySource::describe(Ranks&, Attributes attrs) const {
  attrs.set("source", "npy");
  attrs.set("source_file", options_.path.string());
  attrs.set("encoding", to_string(encoding_));
  attrs.set("encoding_detected", static_cast<std::int64_t>(detected_));
}

}  // namespace othrun::games_plugin
