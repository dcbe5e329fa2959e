// Parsing of the .npy header: magic, version, header length, and the Python dict literal
// {'descr': '<i8', 'fortran_order': False, 'shape': (100000, 60), }. Every read is bounds-checked;
// every error names the file.
#include <othrun/error.hpp>
#include <othrun/npy.hpp>

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstring>
#include <optional>

namespace othrun::npy {

static_assert(std::endian::native == std::endian::little,
              "npy reading assumes a little-endian host");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::string_view kSupported = "|i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 <f4 <f8";

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw DataError(fmt::format("{}: {}", file, what));
}

std::uint32_t read_le(std::string_view bytes, std::size_t offset, std::size_t size) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < size; ++i) {
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

// "<i8" -> Int64. Explains what is unsupported otherwise.
ElementType parse_descr(const std::string& text, const std::string& file) {
  if (text.size() >= 2) {
    const char order = text[0];
    const std::string code = text.substr(1);
    if (order == '>') {
      fail(file, fmt::format("dtype '{}' is big-endian; supported dtypes: {}", text, kSupported));
    }
    constexpr std::array<std::pair<std::string_view, ElementType>, 10> kCodes = {{
        {"i1", ElementType::Int8},
        {"u1", ElementType::UInt8},
        {"i2", ElementType::Int16},
        {"u2", ElementType::UInt16},
        {"i4", ElementType::Int32},
        {"u4", ElementType::UInt32},
        {"i8", ElementType::Int64},
        {"u8", ElementType::UInt64},
        {"f4", ElementType::Float32},
        {"f8", ElementType::Float64},
    }};
    if (order == '<' || order == '|' || order == '=') {
      for (const auto& [name, type] : kCodes) {
        // '|' (no byte order) is how numpy writes one-byte types; '=' is native = little.
        const bool order_ok = order != '|' || element_size(type) == 1;
        if (code == name && order_ok) return type;
      }
    }
  }
  fail(file, fmt::format("unsupported dtype '{}'; supported dtypes: {}", text, kSupported));
}

// A recursive-descent reader of the header's dict literal.
class DictParser {
 public:
  DictParser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  Header parse() {
    Header header;
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<std::uint64_t>> shape;
    expect('{');
    while (!peek_is('}')) {
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        if (peek_is('[')) error("structured dtypes are not supported");
        set_once(descr, parse_string(), key);
      } else if (key == "fortran_order") {
        set_once(fortran_order, parse_bool(), key);
      } else if (key == "shape") {
        set_once(shape, parse_tuple(), key);
      } else {
        error(fmt::format("unexpected key '{}'", key));
      }
      if (!peek_is(',')) break;
      ++pos_;
    }
    expect('}');
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the dict");
    if (!descr || !fortran_order || !shape) {
      error(fmt::format("missing key '{}'", !descr           ? "descr"
                                            : !fortran_order ? "fortran_order"
                                                             : "shape"));
    }
    if (*fortran_order) {
      fail(file_,
           "fortran_order is True (column-major data); only C-order arrays are supported: save "
           "np.ascontiguousarray(array) instead");
    }
    header.type = parse_descr(*descr, file_);
    header.shape = std::move(*shape);
    check_size(header);
    return header;
  }

 private:
  template <class T>
  void set_once(std::optional<T>& slot, T value, const std::string& key) {
    if (slot) error(fmt::format("duplicate key '{}'", key));
    slot = std::move(value);
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool peek_is(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!peek_is(c)) error(fmt::format("expected '{}'", c));
    ++pos_;
  }

  std::string parse_string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      error("expected a quoted string");
    }
    const char quote = text_[pos_++];
    const auto end = text_.find(quote, pos_);
    if (end == std::string_view::npos) error("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }

  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    error("expected True or False");
  }

  std::vector<std::uint64_t> parse_tuple() {
    std::vector<std::uint64_t> values;
    expect('(');
    while (!peek_is(')')) {
      values.push_back(parse_integer());
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      if (!peek_is(',')) break;
      ++pos_;
    }
    expect(')');
    return values;
  }

  std::uint64_t parse_integer() {
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
      error("expected a non-negative integer");
    }
    std::uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(text_[pos_++] - '0');
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, digit, &value)) {
        error("integer too large");
      }
    }
    return value;
  }

  // The element count times the element size must fit in 64 bits.
  void check_size(const Header& header) {
    std::uint64_t bytes = element_size(header.type);
    for (auto extent : header.shape) {
      if (__builtin_mul_overflow(bytes, extent, &bytes)) {
        fail(file_, fmt::format("shape {} is too large", format_shape(header.shape)));
      }
    }
  }

  [[noreturn]] void error(const std::string& what) {
    fail(file_, fmt::format("malformed .npy header: {} at character {} of \"{}\"", what, pos_,
                            text_.substr(0, 200)));
  }

  std::string_view text_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

}  // namespace

Header parse_header(std::string_view bytes, const std::string& file) {
  if (bytes.size() < kMagic.size() + 2 || bytes.substr(0, kMagic.size()) != kMagic) {
    fail(file, "not a .npy file (no \\x93NUMPY magic at the start)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3) {
    fail(file,
         fmt::format("unsupported .npy format version {}.{} (supported: 1, 2, 3)", major, minor));
  }
  const std::size_t length_size = major == 1 ? 2 : 4;
  const std::size_t prefix = kMagic.size() + 2 + length_size;
  if (bytes.size() < prefix) fail(file, "truncated .npy header");
  const std::uint64_t text_size = read_le(bytes, kMagic.size() + 2, length_size);
  if (bytes.size() - prefix < text_size) {
    fail(file, fmt::format("truncated .npy header: it declares {} bytes, the file has {}",
                           text_size, bytes.size() - prefix));
  }
  Header header = DictParser(bytes.substr(prefix, text_size), file).parse();
  header.major_version = major;
  header.minor_version = minor;
  header.data_offset = prefix + text_size;
  return header;
}

}  // namespace othrun::npy
