#include "checkpoint/zip_writer.hpp"

#include "checkpoint/crc32.hpp"
#include "checkpoint/le.hpp"

namespace othrun::checkpoint {

namespace {

constexpr std::uint32_t k32 = 0xffffffffu;  // "see the zip64 field"
constexpr std::uint16_t kVersionZip64 = 45;
constexpr std::uint16_t kVersionPlain = 20;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: a valid DOS date
constexpr std::size_t kAlignment = 64;                       // as torch's writer, for mmap

void append_zip64_extra(std::vector<std::byte>& out, std::initializer_list<std::uint64_t> values) {
  append_le<std::uint16_t>(out, 1);
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(8 * values.size()));
  for (std::uint64_t v : values) append_le<std::uint64_t>(out, v);
}

}  // namespace

ZipWriter::ZipWriter(const std::filesystem::path& path, bool force_zip64)
    : out_(path), force_zip64_(force_zip64) {}

bool ZipWriter::entry_needs_zip64(std::uint64_t size, std::uint64_t offset) const {
  return force_zip64_ || size >= k32 || offset >= k32;
}

void ZipWriter::add(const std::string& name, std::span<const std::byte> data) {
  const Record r{name, data.size(), out_.position(), crc32_update(0, data.data(), data.size())};
  const bool zip64 = entry_needs_zip64(r.size, r.offset);
  std::vector<std::byte> extra;
  if (zip64) append_zip64_extra(extra, {r.size, r.size});
  const std::size_t before_pad = r.offset + 30 + name.size() + extra.size();
  std::size_t pad = (kAlignment - before_pad % kAlignment) % kAlignment;
  if (pad != 0 && pad < 4) pad += kAlignment;  // room for the extra field's own header
  if (pad != 0) {
    append_bytes(extra, "FB");
    append_le<std::uint16_t>(extra, static_cast<std::uint16_t>(pad - 4));
    extra.insert(extra.end(), pad - 4, std::byte{'Z'});
  }

  std::vector<std::byte> h;
  append_le<std::uint32_t>(h, 0x04034b50);
  append_le<std::uint16_t>(h, zip64 ? kVersionZip64 : kVersionPlain);
  append_le<std::uint16_t>(h, 0);  // flags
  append_le<std::uint16_t>(h, 0);  // stored
  append_le<std::uint16_t>(h, 0);  // time
  append_le<std::uint16_t>(h, kDosDate);
  append_le<std::uint32_t>(h, r.crc);
  append_le<std::uint32_t>(h, zip64 ? k32 : static_cast<std::uint32_t>(r.size));
  append_le<std::uint32_t>(h, zip64 ? k32 : static_cast<std::uint32_t>(r.size));
  append_le<std::uint16_t>(h, static_cast<std::uint16_t>(name.size()));
  append_le<std::uint16_t>(h, static_cast<std::uint16_t>(extra.size()));
  append_bytes(h, name);
  h.insert(h.end(), extra.begin(), extra.end());
  out_.write(h);
  out_.write(data);
  records_.push_back(r);
}

void ZipWriter::write_central_header(std::vector<std::byte>& out, const Record& r) const {
  const bool zip64 = entry_needs_zip64(r.size, r.offset);
  std::vector<std::byte> extra;
  if (zip64) append_zip64_extra(extra, {r.size, r.size, r.offset});
  append_le<std::uint32_t>(out, 0x02014b50);
  append_le<std::uint16_t>(out, kVersionZip64);  // made by
  append_le<std::uint16_t>(out, zip64 ? kVersionZip64 : kVersionPlain);
  append_le<std::uint16_t>(out, 0);  // flags
  append_le<std::uint16_t>(out, 0);  // stored
  append_le<std::uint16_t>(out, 0);  // time
  append_le<std::uint16_t>(out, kDosDate);
  append_le<std::uint32_t>(out, r.crc);
  append_le<std::uint32_t>(out, zip64 ? k32 : static_cast<std::uint32_t>(r.size));
  append_le<std::uint32_t>(out, zip64 ? k32 : static_cast<std::uint32_t>(r.size));
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(r.name.size()));
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(extra.size()));
  append_le<std::uint16_t>(out, 0);  // comment
  append_le<std::uint16_t>(out, 0);  // disk
  append_le<std::uint16_t>(out, 0);  // internal attributes
  append_le<std::uint32_t>(out, 0);  // external attributes
  append_le<std::uint32_t>(out, zip64 ? k32 : static_cast<std::uint32_t>(r.offset));
  append_bytes(out, r.name);
  out.insert(out.end(), extra.begin(), extra.end());
}

void ZipWriter::write_end_records(std::vector<std::byte>& out, std::uint64_t cd_offset,
                                  std::uint64_t cd_size) const {
  const std::uint64_t count = records_.size();
  const bool zip64 = force_zip64_ || count >= 0xffff || cd_offset >= k32 || cd_size >= k32;
  if (zip64) {
    const std::uint64_t record_offset = cd_offset + cd_size;
    append_le<std::uint32_t>(out, 0x06064b50);
    append_le<std::uint64_t>(out, 44);  // size of the rest of this record
    append_le<std::uint16_t>(out, kVersionZip64);
    append_le<std::uint16_t>(out, kVersionZip64);
    append_le<std::uint32_t>(out, 0);  // this disk
    append_le<std::uint32_t>(out, 0);  // disk of the central directory
    append_le<std::uint64_t>(out, count);
    append_le<std::uint64_t>(out, count);
    append_le<std::uint64_t>(out, cd_size);
    append_le<std::uint64_t>(out, cd_offset);
    append_le<std::uint32_t>(out, 0x07064b50);  // locator
    append_le<std::uint32_t>(out, 0);
    append_le<std::uint64_t>(out, record_offset);
    append_le<std::uint32_t>(out, 1);  // disks
  }
  append_le<std::uint32_t>(out, 0x06054b50);
  append_le<std::uint16_t>(out, 0);
  append_le<std::uint16_t>(out, 0);
  const auto count16 = static_cast<std::uint16_t>(zip64 ? 0xffff : count);
  append_le<std::uint16_t>(out, count16);
  append_le<std::uint16_t>(out, count16);
  append_le<std::uint32_t>(out, zip64 ? k32 : static_cast<std::uint32_t>(cd_size));
  append_le<std::uint32_t>(out, zip64 ? k32 : static_cast<std::uint32_t>(cd_offset));
  append_le<std::uint16_t>(out, 0);  // comment
}

void ZipWriter::commit() {
  const std::uint64_t cd_offset = out_.position();
  std::vector<std::byte> cd;
  for (const Record& r : records_) write_central_header(cd, r);
  const std::uint64_t cd_size = cd.size();
  write_end_records(cd, cd_offset, cd_size);
  out_.write(cd);
  out_.commit();
}

}  // namespace othrun::checkpoint
