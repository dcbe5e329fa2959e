// games: Othello games with their per-position ground truth, generated (synthetic) or imported
// from board_seqs_*.npy files. The product layout is documented in docs/games.md and read back
// with othrun/games.hpp.
#include <othrun/error.hpp>
#include <othrun/plugin.hpp>

#include <memory>

#include "npy_source.hpp"
#include "pipeline.hpp"
#include "synthetic.hpp"

namespace othrun::games_plugin {

namespace {

DatasetDecls datasets(bool dense) {
  DatasetDecls out;
  auto add = [&](const char* name, DType dtype, const char* axes, const char* doc) {
    out.push_back(DatasetDecl{name, dtype, axes, doc, "", std::nullopt});
  };
  add("tokens", DType::Int8, "game,ply", "model token 1..60 of move t; 0 after the end");
  add("squares", DType::Int8, "game,ply", "square 0..63 of move t; -1 after the end");
  add("length", DType::Int8, "game", "number of moves of the game");
  add("black", DType::UInt64, "game,ply", "bitboard of black discs after move t");
  add("white", DType::UInt64, "game,ply", "bitboard of white discs after move t");
  add("valid", DType::UInt64, "game,ply", "bitboard of the valid moves after move t");
  add("flipped", DType::UInt64, "game,ply", "bitboard of the discs flipped by move t");
  add("to_move", DType::Int8, "game,ply", "side to move after move t: +1 black, -1 white, 0 none");
  add("mover", DType::Int8, "game,ply", "colour that played move t; 0 after the end");
  add("mine", DType::Int8, "game,ply", "colour of 'mine' after move t (mine_theirs convention)");
  if (dense) {
    for (const char* name : {"dense/board", "dense/relative", "dense/valid", "dense/flipped"}) {
      add(name, DType::Int8, "game,ply,row,col", "dense int8 array (docs/games.md)");
    }
  }
  return out;
}

}  // namespace

class Games : public Step {
 public:
  static constexpr const char* kName = "games";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema("Othello games and their per-position ground truth (boards, valid moves, ...)");
    schema.choice("source", {"synthetic", "npy"}, "synthetic",
                  "synthetic: random games (uniform valid moves); npy: import a [N, L] .npy file");
    schema
        .integer("games", std::nullopt,
                 "synthetic: how many games (required); npy: import only the first N")
        .range(1, 1'000'000'000)
        .optional = true;
    schema.flag("full_games_only", false,
                "synthetic: keep only 60-move games, as board_seqs_*_small.npy");
    schema.flag("unique", false, "synthetic: drop games identical to an earlier one");
    schema.path("path", std::nullopt, "npy: the .npy file of games (board_seqs_*.npy)")
        .existing()
        .optional = true;
    schema.choice("encoding", {"auto", "int", "string"}, "auto",
                  "npy: int = tokens 1..60 (0 pads), string = squares 0..63; auto detects it");
    schema.choice("mine_theirs", {"real", "parity"}, "real",
                  "whose discs are 'mine': the real side to move (passes counted) or the "
                  "notebooks' move parity");
    schema.flag("dense", false, "also write int8 [N, 60, 8, 8] arrays under dense/");
    schema.integer("compression", 0, "gzip level of every dataset, 0 = none").range(0, 9);
    schema.provides(games::kKind);
    schema.data_parallel();
    for (const auto& d : datasets(false)) schema.dataset(d);
    schema.dataset("dense/*", DType::Int8, "game,ply,row,col",
                   "with dense: true: board, relative, valid, flipped as int8 [N, 60, 8, 8]");
    return schema;
  }

  // The layout of docs/games.md: per-game and per-ply datasets, plus dense/ when asked for.
  static DatasetDecls produces(const Config& config) { return datasets(config.get_bool("dense")); }

  static void validate(const Config& config) {
    const bool synthetic = config.get_string("source") == "synthetic";
    if (synthetic) {
      if (!config.has("games")) throw ConfigError("games", "source: synthetic needs `games`");
      if (config.has("path")) throw ConfigError("path", "only for source: npy");
      if (config.get_string("encoding") != "auto") {
        throw ConfigError("encoding", "only for source: npy");
      }
    } else {
      if (!config.has("path")) throw ConfigError("path", "source: npy needs `path` (a .npy file)");
      for (const char* key : {"full_games_only", "unique"}) {
        if (config.get_bool(key)) throw ConfigError(key, "only for source: synthetic");
      }
    }
  }

  explicit Games(const Config& config) : config_(config) {}

  void run(RunContext& ctx) override {
    PipelineOptions options;
    options.threads = ctx.threads();
    options.writer.convention = *othello::parse_mine_theirs(config_.get_string("mine_theirs"));
    options.writer.dense = config_.get_bool("dense");
    options.writer.gzip_level = static_cast<int>(config_.get_int("compression"));
    auto source = make_source(ctx);
    write_games(*source, ctx.output().root(), options, ctx.ranks());
  }

 private:
  std::unique_ptr<GameSource> make_source(RunContext& ctx) const {
    if (config_.get_string("source") == "synthetic") {
      SyntheticOptions synthetic;
      synthetic.seed = ctx.seed();
      synthetic.games = static_cast<std::uint64_t>(config_.get_int("games"));
      synthetic.full_games_only = config_.get_bool("full_games_only");
      synthetic.unique = config_.get_bool("unique");
      synthetic.threads = ctx.threads();
      return std::make_unique<SyntheticSource>(synthetic);
    }
    NpyOptions npy;
    npy.path = config_.get_path("path");
    npy.encoding = parse_encoding(config_.get_string("encoding"));
    if (config_.has("games")) npy.games = static_cast<std::uint64_t>(config_.get_int("games"));
    return std::make_unique<NpySource>(npy);
  }

  Config config_;
};

}  // namespace othrun::games_plugin

OTHRUN_PLUGIN(othrun::games_plugin::Games)
