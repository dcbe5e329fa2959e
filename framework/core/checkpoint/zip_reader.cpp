#include "checkpoint/zip_reader.hpp"

#include <algorithm>
#include <cstdio>

#include <othrun/error.hpp>

#include "checkpoint/crc32.hpp"
#include "checkpoint/le.hpp"

namespace othrun::checkpoint {

namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;    // PK\3\4
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;  // PK\1\2
constexpr std::uint32_t kEndSig = 0x06054b50;            // PK\5\6
constexpr std::uint32_t kZip64EndSig = 0x06064b50;       // PK\6\6
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;   // PK\6\7
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kMaxComment = 0xffff;
constexpr std::size_t kChunk = 4 << 20;  // CRC each chunk while it is still in cache

}  // namespace

ZipReader::ZipReader(const std::filesystem::path& path) : file_(path) {
  Directory dir = find_directory();
  parse_directory(dir);
}

void ZipReader::fail(const std::string& what) const {
  throw DataError(file_.path().string() + ": " + what);
}

// The end-of-central-directory record is the last thing in the file, followed only by a comment of
// at most 64 KiB, so it is searched backwards from the end.
ZipReader::Directory ZipReader::find_directory() const {
  const std::uint64_t size = file_.size();
  if (size < kEndSize) fail("not a zip archive: only " + std::to_string(size) + " bytes");
  const auto tail_size =
      static_cast<std::size_t>(std::min<std::uint64_t>(size, kEndSize + kMaxComment));
  const std::uint64_t tail_start = size - tail_size;
  std::vector<std::byte> tail = file_.read(tail_start, tail_size, "zip end record");
  for (std::size_t p = tail_size - kEndSize + 1; p-- > 0;) {
    if (load_le<std::uint32_t>(&tail[p]) != kEndSig) continue;
    const std::byte* e = &tail[p];
    if (p + kEndSize + load_le<std::uint16_t>(e + 20) > tail_size) continue;
    if (load_le<std::uint16_t>(e + 4) != 0 || load_le<std::uint16_t>(e + 6) != 0) {
      fail("multi-disk zip archives are not supported");
    }
    Directory dir;
    dir.entries = load_le<std::uint16_t>(e + 10);
    dir.size = load_le<std::uint32_t>(e + 12);
    dir.offset = load_le<std::uint32_t>(e + 16);
    dir.end = tail_start + p;
    if (load_le<std::uint16_t>(e + 8) != dir.entries)
      fail("zip end record: inconsistent entry counts");
    if (tail_start + p >= kZip64LocatorSize) read_zip64_directory(tail_start + p, dir);
    return dir;
  }
  fail("not a zip archive or truncated: no end of central directory record");
}

void ZipReader::read_zip64_directory(std::uint64_t eocd_offset, Directory& dir) const {
  std::vector<std::byte> loc =
      file_.read(eocd_offset - kZip64LocatorSize, kZip64LocatorSize, "zip64 locator");
  if (load_le<std::uint32_t>(loc.data()) != kZip64LocatorSig) return;  // no zip64 records
  const auto record_offset = load_le<std::uint64_t>(loc.data() + 8);
  if (record_offset > eocd_offset - kZip64LocatorSize ||
      eocd_offset - kZip64LocatorSize - record_offset < kZip64EndSize) {
    fail("zip64 locator points outside the archive");
  }
  std::vector<std::byte> rec = file_.read(record_offset, kZip64EndSize, "zip64 end record");
  if (load_le<std::uint32_t>(rec.data()) != kZip64EndSig) fail("zip64 end record: bad signature");
  if (load_le<std::uint32_t>(rec.data() + 16) != 0 ||
      load_le<std::uint32_t>(rec.data() + 20) != 0) {
    fail("multi-disk zip archives are not supported");
  }
  dir.entries = load_le<std::uint64_t>(rec.data() + 32);
  if (load_le<std::uint64_t>(rec.data() + 24) != dir.entries) {
    fail("zip64 end record: inconsistent entry counts");
  }
  dir.size = load_le<std::uint64_t>(rec.data() + 40);
  dir.offset = load_le<std::uint64_t>(rec.data() + 48);
  dir.end = record_offset;
}

void ZipReader::parse_directory(const Directory& dir) {
  if (dir.offset > dir.end || dir.size > dir.end - dir.offset) {
    fail("central directory (offset " + std::to_string(dir.offset) + ", " +
         std::to_string(dir.size) + " bytes) lies outside the archive");
  }
  if (dir.entries > dir.size / kCentralHeaderSize) {
    fail("central directory: " + std::to_string(dir.entries) + " entries cannot fit in " +
         std::to_string(dir.size) + " bytes");
  }
  directory_offset_ = dir.offset;
  std::vector<std::byte> cd =
      file_.read(dir.offset, static_cast<std::size_t>(dir.size), "central directory");
  entries_.reserve(static_cast<std::size_t>(dir.entries));
  std::size_t p = 0;
  for (std::uint64_t i = 0; i < dir.entries; ++i) {
    const std::string where = "central directory entry " + std::to_string(i);
    if (cd.size() - p < kCentralHeaderSize || load_le<std::uint32_t>(&cd[p]) != kCentralHeaderSig) {
      fail(where + ": bad header");
    }
    const std::byte* h = &cd[p];
    ZipEntry e;
    e.flags = load_le<std::uint16_t>(h + 8);
    e.method = load_le<std::uint16_t>(h + 10);
    e.crc32 = load_le<std::uint32_t>(h + 16);
    e.compressed_size = load_le<std::uint32_t>(h + 20);
    e.size = load_le<std::uint32_t>(h + 24);
    const std::size_t name_len = load_le<std::uint16_t>(h + 28);
    const std::size_t extra_len = load_le<std::uint16_t>(h + 30);
    const std::size_t comment_len = load_le<std::uint16_t>(h + 32);
    e.header_offset = load_le<std::uint32_t>(h + 42);
    if (cd.size() - p - kCentralHeaderSize < name_len + extra_len + comment_len) {
      fail(where + ": runs past the central directory");
    }
    e.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    parse_zip64_extra({h + kCentralHeaderSize + name_len, extra_len}, e);
    if (e.header_offset > dir.offset || dir.offset - e.header_offset < kLocalHeaderSize ||
        e.compressed_size > dir.offset - e.header_offset - kLocalHeaderSize) {
      fail("zip entry '" + e.name + "': data lies outside the archive");
    }
    if (!index_.emplace(e.name, entries_.size()).second) {
      fail("zip entry '" + e.name + "' appears twice");
    }
    entries_.push_back(std::move(e));
    p += kCentralHeaderSize + name_len + extra_len + comment_len;
  }
}

// Sizes and offsets that do not fit 32 bits are 0xffffffff in the header and follow, in this
// order, in the zip64 extra field (id 1).
void ZipReader::parse_zip64_extra(std::span<const std::byte> extra, ZipEntry& e) const {
  while (extra.size() >= 4) {
    const auto id = load_le<std::uint16_t>(extra.data());
    const std::size_t len = load_le<std::uint16_t>(extra.data() + 2);
    if (len > extra.size() - 4) fail("zip entry '" + e.name + "': bad extra field");
    std::span<const std::byte> field = extra.subspan(4, len);
    if (id == 1) {
      for (std::uint64_t* v : {&e.size, &e.compressed_size, &e.header_offset}) {
        if (*v != 0xffffffffu) continue;
        if (field.size() < 8) fail("zip entry '" + e.name + "': short zip64 extra field");
        *v = load_le<std::uint64_t>(field.data());
        field = field.subspan(8);
      }
    }
    extra = extra.subspan(4 + len);
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::uint64_t ZipReader::data_offset(const ZipEntry& e) const {
  const std::string where = "zip entry '" + e.name + "'";
  if (e.flags & 1u) fail(where + " is encrypted");
  if (e.method != 0) {
    fail(where + " is compressed (method " + std::to_string(e.method) +
         "); torch.save writes uncompressed entries: save the file again with torch.save");
  }
  if (e.compressed_size != e.size) fail(where + ": stored entry with differing sizes");
  std::vector<std::byte> h = file_.read(e.header_offset, kLocalHeaderSize, where + " header");
  if (load_le<std::uint32_t>(h.data()) != kLocalHeaderSig) fail(where + ": bad local header");
  const std::uint64_t data = e.header_offset + kLocalHeaderSize +
                             load_le<std::uint16_t>(h.data() + 26) +
                             load_le<std::uint16_t>(h.data() + 28);
  if (data > directory_offset_ || e.size > directory_offset_ - data) {
    fail(where + ": data runs into the central directory");
  }
  return data;
}

void ZipReader::read(const ZipEntry& e, std::span<std::byte> dst) const {
  if (dst.size() != e.size) fail("zip entry '" + e.name + "': size mismatch");
  std::uint64_t offset = data_offset(e);
  std::uint32_t crc = 0;
  for (std::size_t done = 0; done < dst.size(); done += kChunk) {
    std::span<std::byte> chunk = dst.subspan(done, std::min(kChunk, dst.size() - done));
    file_.read(offset + done, chunk, "zip entry '" + e.name + "'");
    crc = crc32_update(crc, chunk.data(), chunk.size());
  }
  if (crc != e.crc32) {
    char text[64];
    std::snprintf(text, sizeof text, "stored %08x, computed %08x", e.crc32, crc);
    fail("zip entry '" + e.name + "': CRC-32 mismatch (" + text + "): the file is corrupt");
  }
}

std::vector<std::byte> ZipReader::read(const ZipEntry& e) const {
  data_offset(e);  // validates the size against the archive before allocating
  std::vector<std::byte> out(static_cast<std::size_t>(e.size));
  read(e, out);
  return out;
}

}  // namespace othrun::checkpoint
