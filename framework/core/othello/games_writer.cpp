// GamesWriter: creates the datasets of a games product and writes batches of games into them.
#include <othrun/error.hpp>
#include <othrun/games.hpp>
#include <othrun/ranks.hpp>

#include <fmt/format.h>

#include "othello/games_layout.hpp"

namespace othrun::games {

namespace {

constexpr std::uint64_t kCells = 64;

const char* doc_of(const char* name) {
  for (const auto& entry : layout::kDocs) {
    if (std::string_view(entry.name) == name) return entry.doc;
  }
  return "";
}

template <class T>
void create(Group& root, const char* name, std::vector<std::uint64_t> shape,
            const WriterOptions& options, const char* doc) {
  DatasetOptions stored;
  stored.gzip_level = options.gzip_level;
  Dataset dataset = root.create_dataset<T>(name, std::move(shape), stored);
  dataset.attrs().set(layout::kDocAttr, doc);
  if (options.ranks) split_rows(*options.ranks, dataset);
}

template <class T>
void write_rows(Group& root, const std::string& name, std::uint64_t first,
                const std::vector<T>& values) {
  root.dataset(name).write_rows<T>(first, std::span<const T>(values));
}

// The dense arrays of one batch: [count, 60, 64] int8 each.
struct DenseBatch {
  std::vector<std::int8_t> board, relative, valid, flipped;
};

DenseBatch densify(const GameBatch& batch) {
  DenseBatch dense;
  dense.board = batch.boards(Frame::BlackWhite);
  dense.relative = batch.boards(Frame::MineTheirs);
  dense.valid.assign(dense.board.size(), 0);
  dense.flipped.assign(dense.board.size(), 0);
  for (std::size_t i = 0; i < batch.valid.size(); ++i) {
    std::span<std::int8_t, 64> valid(dense.valid.data() + i * kCells, kCells);
    std::span<std::int8_t, 64> flipped(dense.flipped.data() + i * kCells, kCells);
    othello::unpack(batch.valid[i], valid);
    othello::unpack(batch.flipped[i], flipped);
  }
  return dense;
}

}  // namespace

GamesWriter::GamesWriter(Group& root, std::uint64_t num_games, WriterOptions options)
    : root_(root), num_games_(num_games), options_(options) {
  const std::uint64_t n = options.share ? options.share->count() : num_games;
  const std::uint64_t p = kPositions;
  const WriterOptions& z = options;
  create<std::int8_t>(root, layout::kTokens, {n, p}, z, doc_of(layout::kTokens));
  create<std::int8_t>(root, layout::kSquares, {n, p}, z, doc_of(layout::kSquares));
  create<std::int8_t>(root, layout::kLength, {n}, z, doc_of(layout::kLength));
  for (const char* name : {layout::kBlack, layout::kWhite, layout::kValid, layout::kFlipped}) {
    create<std::uint64_t>(root, name, {n, p}, z, doc_of(name));
  }
  for (const char* name : {layout::kToMove, layout::kMover, layout::kMine}) {
    create<std::int8_t>(root, name, {n, p}, z, doc_of(name));
  }
  if (options.dense) {
    for (const auto& entry : layout::kDenseDocs) {
      const std::string path = std::string(layout::kDenseGroup) + "/" + entry.name;
      create<std::int8_t>(root, path.c_str(), {n, p, 8, 8}, z, entry.doc);
    }
  }
  auto attrs = root.attrs();
  attrs.set(layout::kFormatAttr, kFormat);
  attrs.set(layout::kFormatVersionAttr, kFormatVersion);
  attrs.set(layout::kNumGamesAttr, static_cast<std::int64_t>(num_games));
  attrs.set(layout::kPositionsAttr, static_cast<std::int64_t>(p));
  attrs.set(layout::kMineTheirsAttr, othello::to_string(options.convention));
  attrs.set(layout::kDenseAttr, static_cast<std::int64_t>(options.dense ? 1 : 0));
  attrs.set(layout::kBitOrderAttr, layout::kBitOrder);
}

void GamesWriter::write(const GameBatch& batch) {
  if (batch.first + batch.count > num_games_) {
    throw Error(fmt::format("games writer: games [{}, {}) exceed the product's {}", batch.first,
                            batch.first + batch.count, num_games_));
  }
  if (batch.convention != options_.convention) {
    throw Error("games writer: the batch's mine/theirs convention differs from the product's");
  }
  const std::uint64_t begin = options_.share ? options_.share->begin : 0;
  const std::uint64_t end = options_.share ? options_.share->end : num_games_;
  if (batch.first < begin || batch.first + batch.count > end) {
    throw Error(fmt::format("games writer: games [{}, {}) are not this rank's [{}, {})",
                            batch.first, batch.first + batch.count, begin, end));
  }
  const std::uint64_t first = batch.first - begin;  // the row in this writer's datasets
  write_rows(root_, layout::kTokens, first, batch.tokens);
  write_rows(root_, layout::kSquares, first, batch.squares);
  write_rows(root_, layout::kLength, first, batch.lengths);
  write_rows(root_, layout::kBlack, first, batch.black);
  write_rows(root_, layout::kWhite, first, batch.white);
  write_rows(root_, layout::kValid, first, batch.valid);
  write_rows(root_, layout::kFlipped, first, batch.flipped);
  write_rows(root_, layout::kToMove, first, batch.to_move);
  write_rows(root_, layout::kMover, first, batch.mover);
  write_rows(root_, layout::kMine, first, batch.mine);
  if (options_.dense) {
    const DenseBatch dense = densify(batch);
    const std::string group = std::string(layout::kDenseGroup) + "/";
    write_rows(root_, group + "board", first, dense.board);
    write_rows(root_, group + "relative", first, dense.relative);
    write_rows(root_, group + "valid", first, dense.valid);
    write_rows(root_, group + "flipped", first, dense.flipped);
  }
}

}  // namespace othrun::games
