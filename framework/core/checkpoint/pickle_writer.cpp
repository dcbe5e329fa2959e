#include "checkpoint/pickle_writer.hpp"

#include <bit>

#include "checkpoint/le.hpp"

namespace othrun::checkpoint {

PickleWriter::PickleWriter() {
  op(0x80);
  op(2);
}

void PickleWriter::integer(std::int64_t v) {
  if (v >= 0 && v < 0x100) {
    op('K');
    op(static_cast<std::uint8_t>(v));
  } else if (v >= 0 && v < 0x10000) {
    op('M');
    append_le<std::uint16_t>(out_, static_cast<std::uint16_t>(v));
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    op('J');
    append_le<std::int32_t>(out_, static_cast<std::int32_t>(v));
  } else {  // LONG1: shortest little-endian two's complement
    std::vector<std::byte> bytes;
    append_le<std::int64_t>(bytes, v);
    while (bytes.size() > 1) {
      const auto last = static_cast<std::uint8_t>(bytes.back());
      const bool sign_of_prev = (static_cast<std::uint8_t>(bytes[bytes.size() - 2]) & 0x80u) != 0;
      if (!((last == 0x00 && !sign_of_prev) || (last == 0xff && sign_of_prev))) break;
      bytes.pop_back();
    }
    op(0x8a);
    op(static_cast<std::uint8_t>(bytes.size()));
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }
}

void PickleWriter::real(double v) {
  op('G');
  append_le<std::uint64_t>(out_, __builtin_bswap64(std::bit_cast<std::uint64_t>(v)));
}

void PickleWriter::string(std::string_view s) {
  op('X');
  append_le<std::uint32_t>(out_, static_cast<std::uint32_t>(s.size()));
  append_bytes(out_, s);
}

void PickleWriter::global(const std::string& module, const std::string& name) {
  const std::string key = module + "\n" + name + "\n";
  auto it = memo_.find(key);
  if (it != memo_.end()) {
    op('j');  // LONG_BINGET
    append_le<std::uint32_t>(out_, it->second);
    return;
  }
  op('c');
  append_bytes(out_, key);
  const auto index = static_cast<std::uint32_t>(memo_.size());
  memo_.emplace(key, index);
  op('r');  // LONG_BINPUT
  append_le<std::uint32_t>(out_, index);
}

void PickleWriter::tuple(std::size_t n) {
  if (n == 0)
    op(')');
  else if (n <= 3)
    op(static_cast<std::uint8_t>(0x85 + n - 1));
  else
    op('t');
}

}  // namespace othrun::checkpoint
