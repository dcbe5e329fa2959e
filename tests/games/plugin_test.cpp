// The games plugin through its entry point, into a real Store: synthetic games, npy imports of
// the numpy-written fixtures, the errors a user sees, and GamesReader reading it all back.
#include <othrun/error.hpp>
#include <othrun/games.hpp>
#include <othrun/npy.hpp>
#include <othrun/plugin.hpp>

#include <gtest/gtest.h>

#include "step_runner.hpp"
#include "temp_dir.hpp"

extern "C" const othrun::PluginInfo* othrun_plugin_info();

namespace othrun::games {
namespace {

using test::fixture;

// A config with the schema's defaults, then `overrides`, as the host would build it.
Config make_config(const std::map<std::string, Value>& overrides) {
  std::map<std::string, Value> values;
  const Schema schema = othrun_plugin_info()->describe();
  for (const auto& spec : schema.params()) {
    if (spec.default_value) values[spec.name] = *spec.default_value;
  }
  for (const auto& [key, value] : overrides) values[key] = value;
  return Config("games", "games", values);
}

class GamesPlugin : public ::testing::Test {
 protected:
  // Validates, creates and runs the step into product `label`.
  void run(const std::map<std::string, Value>& overrides, const std::string& label = "games",
           int threads = 2, std::uint64_t seed = 42) {
    const Config config = make_config(overrides);
    othrun_plugin_info()->validate(config);
    auto step = othrun_plugin_info()->create(config);
    test::run_into(store_, label, seed, threads, [&](RunContext& ctx) { step->run(ctx); });
  }
  std::string run_error(const std::map<std::string, Value>& overrides) {
    try {
      run(overrides, "failing");
    } catch (const std::exception& error) {
      EXPECT_FALSE(store_.has("failing"));  // nothing partial is left
      return error.what();
    }
    return "no error";
  }
  GameBatch read_all(const std::string& label = "games") {
    const Product product = store_.open(label);
    const GamesReader reader(product);
    return reader.read(0, reader.size());
  }

  test::ScratchDir dir_;
  Store store_{dir_ / "store.h5"};
};

Value path_of(const std::string& name) { return Value(fixture(name).string()); }

TEST_F(GamesPlugin, SyntheticGamesAreTheSameOnOneAndTwoThreads) {
  run({{"games", std::int64_t{300}}}, "one", 1);
  run({{"games", std::int64_t{300}}}, "two", 2);
  const GameBatch one = read_all("one"), two = read_all("two");
  EXPECT_EQ(one.squares, two.squares);
  EXPECT_EQ(one.black, two.black);
  EXPECT_EQ(one.white, two.white);
  EXPECT_EQ(one.valid, two.valid);
  EXPECT_EQ(one.flipped, two.flipped);
  EXPECT_EQ(one.mine, two.mine);
}

TEST_F(GamesPlugin, StoredGroundTruthReplaysFromTheSquares) {
  run({{"games", std::int64_t{200}}, {"full_games_only", true}, {"unique", true}});
  const GameBatch stored = read_all();
  ASSERT_EQ(stored.count, 200u);
  const GameBatch replayed = replay(stored.squares, 0, othello::MineTheirs::Real);
  EXPECT_EQ(stored.tokens, replayed.tokens);
  EXPECT_EQ(stored.lengths, replayed.lengths);
  EXPECT_EQ(stored.black, replayed.black);
  EXPECT_EQ(stored.white, replayed.white);
  EXPECT_EQ(stored.valid, replayed.valid);
  EXPECT_EQ(stored.flipped, replayed.flipped);
  EXPECT_EQ(stored.to_move, replayed.to_move);
  EXPECT_EQ(stored.mover, replayed.mover);
  EXPECT_EQ(stored.mine, replayed.mine);
  for (std::uint64_t g = 0; g < stored.count; ++g) EXPECT_EQ(stored.length(g), 60);
  const Product product = store_.open("games");
  EXPECT_EQ(product.root().attrs().get_string("source"), "synthetic");
  EXPECT_EQ(product.root().attrs().get_string("seed"), "42");
}

TEST_F(GamesPlugin, ImportsEveryFixtureEncodingDtypeAndVersion) {
  const auto expected = npy::Reader(fixture("expected_states.npy")).read_all<std::int8_t>();
  for (const char* name :
       {"int_i8_v1.npy", "int_u1_v2.npy", "int_i2_v1.npy", "int_u4_v3.npy", "int_f8_v1.npy",
        "string_i8_v1.npy", "string_i1_v2.npy", "string_i4_v1.npy"}) {
    run({{"source", std::string("npy")}, {"path", path_of(name)}}, "imported");
    const GameBatch batch = read_all("imported");
    EXPECT_EQ(batch.boards(Frame::BlackWhite), expected) << name;
    const Product product = store_.open("imported");
    const std::string encoding = product.root().attrs().get_string("encoding");
    EXPECT_EQ(encoding, std::string(name).substr(0, encoding.size())) << name;
    EXPECT_EQ(product.root().attrs().get_int("encoding_detected"), 1);
  }
}

TEST_F(GamesPlugin, ImportsTheFirstGamesOnlyWhenAsked) {
  run({{"source", std::string("npy")},
       {"path", path_of("int_full_u2_v1.npy")},
       {"encoding", std::string("int")},
       {"games", std::int64_t{4}}});
  const GameBatch batch = read_all();
  EXPECT_EQ(batch.count, 4u);
  const Product product = store_.open("games");
  EXPECT_EQ(product.root().attrs().get_int("encoding_detected"), 0);
  EXPECT_EQ(product.root().attrs().get_int("num_games"), 4);
}

TEST_F(GamesPlugin, IllegalMoveIsReportedAndNothingIsWritten) {
  const std::string message =
      run_error({{"source", std::string("npy")}, {"path", path_of("int_illegal.npy")}});
  const std::string prefix =
      fixture("int_illegal.npy").string() + ": game 1, ply 5: A0 is not a valid move (";
  EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
}

TEST_F(GamesPlugin, DeclaredEncodingThatDoesNotFit) {
  EXPECT_EQ(run_error({{"source", std::string("npy")},
                       {"path", path_of("string_i8_v1.npy")},
                       {"encoding", std::string("int")}}),
            fixture("string_i8_v1.npy").string() +
                ": game 0, ply 17: value 63 is not a move in the int encoding: 1..60 (0 = "
                "padding); the file looks like the 'string' encoding (every value is in 0..63 "
                "except 27 28 35 36 (negative = padding), and every game opens with one of 19 26 "
                "37 44): check `encoding`");
}

TEST_F(GamesPlugin, MalformedFilesAreErrors) {
  EXPECT_EQ(run_error({{"source", std::string("npy")}, {"path", path_of("three_d.npy")}}),
            fixture("three_d.npy").string() +
                ": expected a 2-D array [games, moves] with 1 to 60 moves per game; the shape is "
                "(2, 6, 10)");
  EXPECT_EQ(run_error({{"source", std::string("npy")}, {"path", path_of("empty_int.npy")}}),
            fixture("empty_int.npy").string() + ": the file holds no games");
  EXPECT_EQ(
      run_error({{"source", std::string("npy")},
                 {"path", path_of("int_i8_v1.npy")},
                 {"games", std::int64_t{9}}}),
      fixture("int_i8_v1.npy").string() + ": `games: 9` asks for more games than the file's 8");
  EXPECT_NE(run_error({{"source", std::string("npy")}, {"path", path_of("fortran.npy")}})
                .find("fortran_order is True"),
            std::string::npos);
}

TEST_F(GamesPlugin, ParityConventionIsStoredAndUsed) {
  run({{"source", std::string("npy")},
       {"path", path_of("string_i8_v1.npy")},
       {"mine_theirs", std::string("parity")}});
  const GameBatch batch = read_all();
  EXPECT_EQ(batch.convention, othello::MineTheirs::Parity);
  for (std::uint64_t g = 0; g < batch.count; ++g) {
    for (int t = 0; t < batch.length(g); ++t) {
      EXPECT_EQ(batch.mine[GameBatch::index(g, t)], t % 2 == 0 ? -1 : 1);
    }
  }
}

TEST_F(GamesPlugin, DenseArraysMatchTheBitboards) {
  run({{"source", std::string("npy")}, {"path", path_of("string_i8_v1.npy")}, {"dense", true}});
  const GameBatch batch = read_all();
  const Product product = store_.open("games");
  const auto board = product.root().dataset("dense/board").read_all<std::int8_t>();
  const auto relative = product.root().dataset("dense/relative").read_all<std::int8_t>();
  EXPECT_EQ(product.root().dataset("dense/board").shape(),
            (std::vector<std::uint64_t>{8, 60, 8, 8}));
  EXPECT_EQ(board, batch.boards(Frame::BlackWhite));
  EXPECT_EQ(relative, batch.boards(Frame::MineTheirs));
  const auto valid = product.root().dataset("dense/valid").read_all<std::int8_t>();
  std::array<std::int8_t, 64> one_hot{};
  othello::unpack(batch.valid[GameBatch::index(2, 10)], one_hot);
  EXPECT_TRUE(
      std::equal(one_hot.begin(), one_hot.end(), valid.begin() + GameBatch::index(2, 10) * 64));
}

TEST_F(GamesPlugin, ReaderReadsChunksAndRejectsOtherProducts) {
  run({{"games", std::int64_t{100}}});
  const Product product = store_.open("games");
  const GamesReader reader(product);
  const GameBatch all = reader.read(0, 100);
  const GameBatch chunk = reader.read(30, 20);
  EXPECT_EQ(chunk.first, 30u);
  EXPECT_EQ(chunk.black, std::vector<othello::Bitboard>(all.black.begin() + 30 * 60,
                                                        all.black.begin() + 50 * 60));
  EXPECT_EQ(reader.tokens(30, 20), chunk.tokens);
  EXPECT_THROW(reader.read(90, 20), Error);

  test::run_into(store_, "other", 1, 1, [](RunContext&) {});
  const Product other = store_.open("other");
  try {
    GamesReader bad(other);
    FAIL();
  } catch (const DataError& error) {
    EXPECT_EQ(std::string(error.what()),
              "product 'other' is not a games product (its format attribute is '', expected "
              "'othrun.games')");
  }
}

TEST_F(GamesPlugin, ValidateNamesTheWrongKey) {
  const auto key_of = [](const std::map<std::string, Value>& overrides) {
    try {
      othrun_plugin_info()->validate(make_config(overrides));
    } catch (const ConfigError& error) {
      return error.key() + ": " + error.what();
    }
    return std::string("valid");
  };
  EXPECT_EQ(key_of({}), "games: source: synthetic needs `games`");
  EXPECT_EQ(key_of({{"source", std::string("npy")}}),
            "path: source: npy needs `path` (a .npy file)");
  EXPECT_EQ(key_of({{"source", std::string("npy")}, {"path", path_of("x.npy")}, {"unique", true}}),
            "unique: only for source: synthetic");
  EXPECT_EQ(key_of({{"games", std::int64_t{5}}, {"encoding", std::string("int")}}),
            "encoding: only for source: npy");
  EXPECT_EQ(key_of({{"games", std::int64_t{5}}}), "valid");
}

}  // namespace
}  // namespace othrun::games
