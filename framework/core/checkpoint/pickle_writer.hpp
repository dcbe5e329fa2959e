// Emits the protocol-2 opcodes that torch 1.13's weights_only unpickler understands (it lacks
// SHORT_BINUNICODE, FRAME, MEMOIZE and BINFLOAT; the last is still used for floats).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace othrun::checkpoint {

class PickleWriter {
 public:
  PickleWriter();  // writes PROTO 2

  void none() { op('N'); }
  void boolean(bool v) { op(v ? 0x88 : 0x89); }
  void integer(std::int64_t v);
  void real(double v);
  void string(std::string_view s);
  void global(const std::string& module, const std::string& name);  // memoised after first use
  void mark() { op('('); }
  void op(std::uint8_t code) { out_.push_back(static_cast<std::byte>(code)); }
  void tuple(std::size_t n);  // of the last n items (TUPLE1-3) or since the last mark (TUPLE)
  void stop() { op('.'); }

  const std::vector<std::byte>& bytes() const { return out_; }

 private:
  std::vector<std::byte> out_;
  std::map<std::string, std::uint32_t> memo_;
};

}  // namespace othrun::checkpoint
