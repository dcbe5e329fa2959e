#include <cstring>

#include <gtest/gtest.h>

#include <othrun/error.hpp>

#include "checkpoint/crc32.hpp"
#include "checkpoint/zip_reader.hpp"
#include "checkpoint/zip_writer.hpp"
#include "checkpoint_test_util.hpp"

namespace othrun::checkpoint {
namespace {

using test::TempDir;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string text_of(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// The message of the DataError that `fn` throws, or "" if it throws none.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(Crc32, KnownValues) {
  EXPECT_EQ(crc32_update(0, "123456789", 9), 0xcbf43926u);
  EXPECT_EQ(crc32_update(0, "", 0), 0u);
  EXPECT_EQ(crc32_update_portable(0, "123456789", 9), 0xcbf43926u);
}

// The carry-less-multiply path (lengths >= 64) against the bitwise definition, over lengths,
// alignments and chained calls.
TEST(Crc32, FastPathMatchesTheDefinition) {
  auto bitwise = [](std::uint32_t crc, const unsigned char* p, std::size_t n) {
    std::uint32_t c = ~crc;
    for (std::size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
  };
  std::vector<unsigned char> data(5000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 131 + 7);
  for (std::size_t n = 0; n < 700; n += 1 + n / 50) {
    for (std::size_t offset : {0, 1, 5, 15}) {
      const unsigned char* p = data.data() + offset;
      ASSERT_EQ(crc32_update(0, p, n), bitwise(0, p, n)) << n << " at " << offset;
      ASSERT_EQ(crc32_update_portable(0, p, n), bitwise(0, p, n)) << n << " at " << offset;
      ASSERT_EQ(crc32_update(0x12345678, p, n), bitwise(0x12345678, p, n)) << n;
    }
  }
  const std::uint32_t whole = crc32_update(0, data.data(), data.size());
  EXPECT_EQ(whole, bitwise(0, data.data(), data.size()));
  EXPECT_EQ(crc32_update(crc32_update(0, data.data(), 333), data.data() + 333, 4667), whole);
}

class ZipRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(ZipRoundTrip, WriterOutputReadsBack) {
  TempDir dir;
  const auto path = dir / "a.zip";
  std::string big(100000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  {
    ZipWriter zip(path, GetParam());
    zip.add("archive/data.pkl", bytes_of("hello"));
    zip.add("archive/data/0", bytes_of(big));
    zip.add("archive/empty", {});
    zip.commit();
  }
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".partial"));
  ZipReader zip(path);
  ASSERT_EQ(zip.entries().size(), 3u);
  EXPECT_EQ(zip.entries()[1].name, "archive/data/0");
  EXPECT_EQ(text_of(zip.read(*zip.find("archive/data.pkl"))), "hello");
  EXPECT_EQ(text_of(zip.read(*zip.find("archive/data/0"))), big);
  EXPECT_EQ(zip.read(*zip.find("archive/empty")).size(), 0u);
  EXPECT_EQ(zip.find("nope"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Zip64, ZipRoundTrip, ::testing::Bool());

TEST(ZipWriter, AlignsDataTo64Bytes) {
  TempDir dir;
  const auto path = dir / "a.zip";
  ZipWriter zip(path);
  zip.add("archive/data.pkl", bytes_of("abc"));
  zip.add("archive/data/0", bytes_of("0123456789abcdef"));
  zip.commit();
  const std::string file = test::read_file(path);
  EXPECT_EQ(file.find("abc") % 64, 0u);
  EXPECT_EQ(file.find("0123456789abcdef") % 64, 0u);
}

TEST(ZipWriter, NothingIsLeftWithoutCommit) {
  TempDir dir;
  { ZipWriter zip(dir / "a.zip"); }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ZipReader, ReadsTorchArchives) {
  ZipReader zip(test::fixture("one_key.pth"));
  ASSERT_NE(zip.find("one_key/data.pkl"), nullptr);
  EXPECT_EQ(text_of(zip.read(*zip.find("one_key/version"))), "3\n");
}

TEST(ZipReader, RejectsCompressedEntries) {
  ZipReader zip(test::fixture("compressed.pth"));
  const std::string error = error_of([&] { zip.read(zip.entries()[0]); });
  EXPECT_NE(error.find("compressed (method 8)"), std::string::npos) << error;
  EXPECT_NE(error.find("compressed.pth"), std::string::npos) << error;
}

TEST(ZipReader, DetectsCorruptData) {
  TempDir dir;
  const auto path = dir / "a.zip";
  {
    ZipWriter zip(path);
    zip.add("x", bytes_of("some payload"));
    zip.commit();
  }
  std::string file = test::read_file(path);
  file[file.find("payload")] = 'P';
  test::write_file(path, file);
  ZipReader zip(path);
  const std::string error = error_of([&] { zip.read(*zip.find("x")); });
  EXPECT_NE(error.find("zip entry 'x': CRC-32 mismatch"), std::string::npos) << error;
}

TEST(ZipReader, RejectsTruncatedAndForeignFiles) {
  TempDir dir;
  const std::string file = test::read_file(test::fixture("one_key.pth"));
  test::write_file(dir / "cut.pth", file.substr(0, file.size() / 2));
  EXPECT_NE(error_of([&] { ZipReader z(dir / "cut.pth"); }).find("no end of central directory"),
            std::string::npos);
  test::write_file(dir / "short", "PK");
  EXPECT_NE(error_of([&] { ZipReader z(dir / "short"); }).find("not a zip archive"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ZipReader z(dir / "missing"); }).find("cannot open"), std::string::npos);
  EXPECT_NE(error_of([&] { ZipReader z(dir.path()); }).find("not a regular file"),
            std::string::npos);
}

TEST(ZipReader, RejectsADirectoryPointingOutside) {
  TempDir dir;
  const auto path = dir / "a.zip";
  {
    ZipWriter zip(path);
    zip.add("x", bytes_of("data"));
    zip.commit();
  }
  std::string file = test::read_file(path);
  const std::size_t eocd = file.rfind("PK\x05\x06");
  file[eocd + 16] = '\x7f';  // central directory offset far beyond the file
  test::write_file(path, file);
  EXPECT_NE(error_of([&] { ZipReader z(path); }).find("outside the archive"), std::string::npos);
}

}  // namespace
}  // namespace othrun::checkpoint
