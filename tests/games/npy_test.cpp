// .npy reading and writing: files written by numpy (tests/fixtures/make_games_fixtures.py), round
// trips, and the exact messages for malformed files.
#include <othrun/error.hpp>
#include <othrun/npy.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "temp_dir.hpp"

namespace othrun::npy {
namespace {

using test::fixture;

// Expects `action` to throw DataError with exactly `message`.
template <class Action>
void expect_data_error(Action&& action, const std::string& message) {
  try {
    action();
    FAIL() << "no error; expected: " << message;
  } catch (const DataError& error) {
    EXPECT_EQ(std::string(error.what()), message);
  }
}

std::string path_text(const std::string& name) { return fixture(name).string(); }

TEST(Npy, ReadsNumpyFilesOfEveryFixtureDtypeAndVersion) {
  const auto reference = Reader(fixture("int_i8_v1.npy")).read_all<std::int64_t>();
  ASSERT_EQ(reference.size(), 8u * 60u);
  struct Case {
    const char* file;
    ElementType type;
    int version;
  };
  for (const Case& c :
       {Case{"int_u1_v2.npy", ElementType::UInt8, 2}, Case{"int_i2_v1.npy", ElementType::Int16, 1},
        Case{"int_u4_v3.npy", ElementType::UInt32, 3},
        Case{"int_f8_v1.npy", ElementType::Float64, 1}}) {
    Reader reader(fixture(c.file));
    EXPECT_EQ(reader.header().type, c.type) << c.file;
    EXPECT_EQ(reader.header().major_version, c.version) << c.file;
    EXPECT_EQ(reader.header().shape, (std::vector<std::uint64_t>{8, 60})) << c.file;
    EXPECT_EQ(reader.read_all<std::int64_t>(), reference) << c.file;
  }
}

TEST(Npy, StringFixturesAgreeAcrossDtypes) {
  const auto reference = Reader(fixture("string_i8_v1.npy")).read_all<std::int64_t>();
  EXPECT_EQ(Reader(fixture("string_i1_v2.npy")).read_all<std::int64_t>(), reference);
  EXPECT_EQ(Reader(fixture("string_i4_v1.npy")).read_all<std::int64_t>(), reference);
}

TEST(Npy, ReadsRowRanges) {
  Reader reader(fixture("int_i8_v1.npy"));
  const auto all = reader.read_all<std::int32_t>();
  const auto middle = reader.read_rows<std::int32_t>(3, 2);
  EXPECT_EQ(middle, std::vector<std::int32_t>(all.begin() + 180, all.begin() + 300));
  EXPECT_THROW(reader.read_rows<std::int32_t>(7, 2), Error);
}

template <class T>
void expect_round_trip(const test::ScratchDir& dir, int version) {
  const std::vector<std::uint64_t> shape = {3, 4, 5};
  std::vector<T> data(60);
  std::iota(data.begin(), data.end(), T{1});
  const auto path = dir / ("round_trip_" + std::to_string(version) + ".npy");
  write<T>(path, shape, data, version);
  Reader reader(path);
  EXPECT_EQ(reader.header().type, element_type_of<T>());
  EXPECT_EQ(reader.header().major_version, version == 0 ? 1 : version);
  EXPECT_EQ(reader.header().shape, shape);
  EXPECT_EQ(reader.header().data_offset % 64, 0u);
  EXPECT_EQ(reader.read_all<T>(), data);
}

TEST(Npy, WritesAndReadsBackEveryTypeAndVersion) {
  test::ScratchDir dir;
  for (int version : {0, 1, 2, 3}) {
    expect_round_trip<std::int8_t>(dir, version);
    expect_round_trip<std::uint8_t>(dir, version);
    expect_round_trip<std::int16_t>(dir, version);
    expect_round_trip<std::uint16_t>(dir, version);
    expect_round_trip<std::int32_t>(dir, version);
    expect_round_trip<std::uint32_t>(dir, version);
    expect_round_trip<std::int64_t>(dir, version);
    expect_round_trip<std::uint64_t>(dir, version);
    expect_round_trip<float>(dir, version);
    expect_round_trip<double>(dir, version);
  }
}

TEST(Npy, ZeroAndOneDimensionalShapes) {
  test::ScratchDir dir;
  const std::vector<double> one = {2.5};
  write<double>(dir / "scalar.npy", {}, one);
  Reader scalar(dir / "scalar.npy");
  EXPECT_TRUE(scalar.header().shape.empty());
  EXPECT_EQ(scalar.read_all<double>(), one);
  const std::vector<std::int16_t> five = {1, -2, 3, -4, 5};
  write<std::int16_t>(dir / "vector.npy", {5}, five);
  EXPECT_EQ(Reader(dir / "vector.npy").read_all<std::int16_t>(), five);
  EXPECT_EQ(format_shape({5}), "(5,)");
  EXPECT_EQ(format_shape({}), "()");
  EXPECT_EQ(format_shape({2, 3}), "(2, 3)");
}

TEST(Npy, ValuesThatDoNotFitAreErrors) {
  test::ScratchDir dir;
  const std::vector<std::int32_t> data = {1, 300, 3};
  write<std::int32_t>(dir / "wide.npy", {3}, data);
  Reader reader(dir / "wide.npy");
  expect_data_error(
      [&] { reader.read_all<std::int8_t>(); },
      (dir / "wide.npy").string() + ": element 1 (row 1) is 300, which does not fit in int8");
  EXPECT_EQ(reader.read_all<std::int16_t>(), (std::vector<std::int16_t>{1, 300, 3}));
}

TEST(Npy, FractionalFloatsAreNotIntegers) {
  expect_data_error(
      [] { Reader(fixture("fractional.npy")).read_all<std::int64_t>(); },
      path_text("fractional.npy") + ": element 0 (row 0) is 27.5, which does not fit in int64");
}

TEST(Npy, FortranOrderIsRejected) {
  expect_data_error([] { Reader reader(fixture("fortran.npy")); },
                    path_text("fortran.npy") +
                        ": fortran_order is True (column-major data); only C-order arrays are "
                        "supported: save np.ascontiguousarray(array) instead");
}

TEST(Npy, BigEndianIsRejected) {
  expect_data_error([] { Reader reader(fixture("big_endian.npy")); },
                    path_text("big_endian.npy") +
                        ": dtype '>i8' is big-endian; supported dtypes: |i1 |u1 <i2 <u2 <i4 <u4 "
                        "<i8 <u8 <f4 <f8");
}

TEST(Npy, BoolIsRejected) {
  expect_data_error([] { Reader reader(fixture("bool.npy")); },
                    path_text("bool.npy") +
                        ": unsupported dtype '|b1'; supported dtypes: |i1 |u1 <i2 <u2 <i4 <u4 "
                        "<i8 <u8 <f4 <f8");
}

TEST(Npy, TruncatedDataIsRejected) {
  expect_data_error([] { Reader reader(fixture("truncated.npy")); },
                    path_text("truncated.npy") +
                        ": the data is 3833 bytes, but shape (8, 60) of int64 needs 3840");
}

TEST(Npy, MissingFileIsAnError) {
  expect_data_error([] { Reader reader(fixture("no_such.npy")); },
                    path_text("no_such.npy") + ": cannot open: No such file or directory");
}

std::string with_prefix(const std::string& text, int version = 1) {
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(version);
  bytes += '\0';
  const std::size_t length_bytes = version == 1 ? 2 : 4;
  for (std::size_t i = 0; i < length_bytes; ++i) {
    bytes += static_cast<char>((text.size() >> (8 * i)) & 0xff);
  }
  return bytes + text;
}

TEST(Npy, HeaderErrorsNameTheProblem) {
  const auto message = [](const std::string& bytes) {
    try {
      parse_header(bytes, "f.npy");
    } catch (const DataError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("PK\x03\x04"), "f.npy: not a .npy file (no \\x93NUMPY magic at the start)");
  EXPECT_EQ(message(with_prefix("{}", 4)),
            "f.npy: unsupported .npy format version 4.0 (supported: 1, 2, 3)");
  EXPECT_EQ(message(with_prefix("{}").substr(0, 9)), "f.npy: truncated .npy header");
  EXPECT_EQ(message(with_prefix("{'descr': '<i8'").substr(0, 14)),
            "f.npy: truncated .npy header: it declares 15 bytes, the file has 4");
  EXPECT_EQ(message(with_prefix("{'descr': '<i8', 'fortran_order': False}")),
            "f.npy: malformed .npy header: missing key 'shape' at character 40 of \"{'descr': "
            "'<i8', 'fortran_order': False}\"");
  EXPECT_EQ(message(with_prefix("{'descr': '<i8', 'shape': (2, x)}")),
            "f.npy: malformed .npy header: expected a non-negative integer at character 30 of "
            "\"{'descr': '<i8', 'shape': (2, x)}\"");
  EXPECT_EQ(message(with_prefix("{'descr': [('a', '<i4')], 'fortran_order': False}")),
            "f.npy: malformed .npy header: structured dtypes are not supported at character 10 "
            "of \"{'descr': [('a', '<i4')], 'fortran_order': False}\"");
  EXPECT_EQ(message(with_prefix("{'descr': '<i8', 'descr': '<i8'}")),
            "f.npy: malformed .npy header: duplicate key 'descr' at character 31 of \"{'descr': "
            "'<i8', 'descr': '<i8'}\"");
  EXPECT_EQ(message(with_prefix("{'descr': '<i8', 'fortran_order': False, 'shape': "
                                "(99999999999, 99999999999), }")),
            "f.npy: shape (99999999999, 99999999999) is too large");
  EXPECT_EQ(message(with_prefix("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), 'x': 1}")),
            "f.npy: malformed .npy header: unexpected key 'x' at character 60 of \"{'descr': "
            "'<i8', 'fortran_order': False, 'shape': (2,), 'x': 1}\"");
}

// Every truncation and many single-byte corruptions of a real header either parse or throw
// DataError: the parser never reads out of bounds (run under ASan in the sanitizer build).
TEST(Npy, CorruptHeadersOnlyEverThrowDataError) {
  std::ifstream file(fixture("int_u1_v2.npy"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string header = bytes.substr(0, 128);
  const auto parses_or_data_error = [](const std::string& text) {
    try {
      parse_header(text, "f");
    } catch (const DataError&) {
    }
  };
  for (std::size_t size = 0; size <= header.size(); ++size) {
    EXPECT_NO_THROW(parses_or_data_error(header.substr(0, size))) << size;
  }
  std::uint64_t state = 1;
  for (int trial = 0; trial < 5000; ++trial) {
    std::string mutated = header;
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    mutated[(state >> 33) % mutated.size()] = static_cast<char>(state >> 56);
    EXPECT_NO_THROW(parses_or_data_error(mutated)) << trial;
  }
}

TEST(Npy, AcceptsWhatNumpyWrites) {
  const std::string text = "{'descr': '<u2', 'fortran_order': False, 'shape': (3L, 4), }    \n";
  const Header header = parse_header(with_prefix(text, 2), "f");
  EXPECT_EQ(header.type, ElementType::UInt16);
  EXPECT_EQ(header.shape, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(header.major_version, 2);
  EXPECT_EQ(header.data_offset, 12u + text.size());
  EXPECT_EQ(header.rows(), 3u);
  EXPECT_EQ(header.row_size(), 4u);
}

}  // namespace
}  // namespace othrun::npy
