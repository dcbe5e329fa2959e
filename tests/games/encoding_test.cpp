// The int / string encodings: decoding, and detection on the numpy-written fixtures.
#include <othrun/npy.hpp>

#include <gtest/gtest.h>

#include "encoding.hpp"
#include "temp_dir.hpp"

namespace othrun::games_plugin {
namespace {

TEST(Encoding, DecodesIntTokens) {
  EXPECT_EQ(decode(Encoding::Int, 0), kPadding);
  EXPECT_EQ(decode(Encoding::Int, 1), 0);
  EXPECT_EQ(decode(Encoding::Int, 28), 29);
  EXPECT_EQ(decode(Encoding::Int, 60), 63);
  EXPECT_EQ(decode(Encoding::Int, 61), kNotAMove);
  EXPECT_EQ(decode(Encoding::Int, -1), kNotAMove);
}

TEST(Encoding, DecodesStringSquares) {
  EXPECT_EQ(decode(Encoding::String, -1), kPadding);
  EXPECT_EQ(decode(Encoding::String, -100), kPadding);
  EXPECT_EQ(decode(Encoding::String, 0), 0);
  EXPECT_EQ(decode(Encoding::String, 63), 63);
  EXPECT_EQ(decode(Encoding::String, 27), kNotAMove);  // a centre square
  EXPECT_EQ(decode(Encoding::String, 64), kNotAMove);
  EXPECT_EQ(decode(Encoding::String, 1LL << 40), kNotAMove);
}

std::optional<Encoding> detect_file(const std::string& name, std::string& explanation) {
  npy::Reader reader(test::fixture(name));
  const auto values = reader.read_all<std::int64_t>();
  EncodingDetector detector;
  const auto width = reader.row_size();
  for (std::uint64_t row = 0; row < reader.rows(); ++row) {
    detector.add_row(std::span(values).subspan(row * width, width), row);
  }
  return detector.result(explanation);
}

TEST(Encoding, DetectsEachFixturesEncoding) {
  std::string why;
  for (const char* name : {"int_i8_v1.npy", "int_u1_v2.npy", "int_full_u2_v1.npy"}) {
    EXPECT_EQ(detect_file(name, why), Encoding::Int) << name << ": " << why;
  }
  for (const char* name : {"string_i8_v1.npy", "string_i1_v2.npy", "string_full_u8_v1.npy"}) {
    EXPECT_EQ(detect_file(name, why), Encoding::String) << name << ": " << why;
  }
  EXPECT_EQ(why,
            "every value is in 0..63 except 27 28 35 36 (negative = padding), and every game "
            "opens with one of 19 26 37 44");
}

TEST(Encoding, ExplainsWhenNeitherFits) {
  const std::vector<std::int64_t> row = {0, 1, 2};
  EncodingDetector detector;
  detector.add_row(row, 0);
  std::string why;
  EXPECT_EQ(detector.result(why), std::nullopt);
  EXPECT_EQ(why,
            "neither encoding fits: not int (game 0 opens with 0, and the first move must be one "
            "of 20 27 34 41); not string (game 0 opens with 0, and the first move must be one of "
            "19 26 37 44)");
}

TEST(Encoding, NoGamesCannotBeDetected) {
  EncodingDetector detector;
  std::string why;
  EXPECT_EQ(detector.result(why), std::nullopt);
  EXPECT_EQ(why, "the file has no games to tell the encoding from");
}

TEST(Encoding, OutOfRangeValueRulesOutInt) {
  const std::vector<std::int64_t> row = {19, 61};
  EXPECT_EQ(inconsistency(Encoding::Int, row, 4),
            "game 4, ply 1: value 61 is outside 1..60 (0 = padding)");
  EXPECT_EQ(inconsistency(Encoding::String, row, 4), std::nullopt);
}

}  // namespace
}  // namespace othrun::games_plugin
