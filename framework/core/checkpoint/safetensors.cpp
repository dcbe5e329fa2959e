#include <othrun/safetensors.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include <othrun/error.hpp>

#include "checkpoint/element.hpp"
#include "checkpoint/file_io.hpp"
#include "checkpoint/json_file.hpp"
#include "checkpoint/le.hpp"

namespace othrun {

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the limit of the reference implementation

constexpr std::array<std::pair<const char*, DType>, 11> kDTypes{{
    {"BOOL", DType::Bool},
    {"U8", DType::UInt8},
    {"I8", DType::Int8},
    {"I16", DType::Int16},
    {"I32", DType::Int32},
    {"I64", DType::Int64},
    {"U64", DType::UInt64},
    {"F16", DType::Float16},
    {"BF16", DType::BFloat16},
    {"F32", DType::Float32},
    {"F64", DType::Float64},
}};

std::optional<DType> parse_dtype(const std::string& name) {
  for (const auto& [n, dtype] : kDTypes) {
    if (name == n) return dtype;
  }
  return std::nullopt;
}

const char* dtype_name(DType dtype) {
  for (const auto& [n, d] : kDTypes) {
    if (d == dtype) return n;
  }
  return "?";
}

// One header entry, checked but not yet read.
struct Entry {
  std::string name;
  DType dtype;
  HostTensor::Shape shape;
  std::uint64_t begin;
  std::uint64_t end;
};

class HeaderParser {
 public:
  HeaderParser(std::string where, std::uint64_t data_size)
      : where_(std::move(where)), data_size_(data_size) {}

  Entry entry(const std::string& name, const json& j) const {
    const std::string what = "tensor '" + name + "'";
    if (!j.is_object()) fail(what + ": not a JSON object");
    Entry e{name, DType::UInt8, {}, 0, 0};
    const json* dtype = member(j, "dtype", what);
    if (!dtype->is_string()) fail(what + ": dtype is not a string");
    auto parsed = parse_dtype(dtype->get<std::string>());
    if (!parsed) fail(what + ": unsupported dtype '" + dtype->get<std::string>() + "'");
    e.dtype = *parsed;
    std::int64_t bytes = static_cast<std::int64_t>(dtype_size(e.dtype));
    for (const json& d : array(j, "shape", what)) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > INT64_MAX) {
        fail(what + ": shape holds " + d.dump());
      }
      e.shape.push_back(d.get<std::int64_t>());
      if (__builtin_mul_overflow(bytes, e.shape.back(), &bytes)) fail(what + ": shape overflows");
    }
    const json& offsets = array(j, "data_offsets", what);
    if (offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail(what + ": data_offsets is not [begin, end]");
    }
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    if (e.begin > e.end || e.end > data_size_) {
      fail(what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
           "] outside the " + std::to_string(data_size_) + "-byte data section");
    }
    if (e.end - e.begin != static_cast<std::uint64_t>(bytes)) {
      fail(what + ": shape " + shape_string(e.shape) + " of " + dtype_name(e.dtype) + " needs " +
           std::to_string(bytes) + " bytes, data_offsets give " + std::to_string(e.end - e.begin));
    }
    return e;
  }

  std::map<std::string, std::string> metadata(const json& j) const {
    if (!j.is_object()) fail("__metadata__ is not a JSON object");
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : j.items()) {
      if (!value.is_string()) fail("__metadata__ '" + key + "' is not a string");
      out[key] = value.get<std::string>();
    }
    return out;
  }

  // The data section must be covered exactly, without overlaps or holes, as the format requires.
  void check_layout(std::vector<Entry>& entries) const {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t expected = 0;
    for (const Entry& e : entries) {
      if (e.begin != expected) {
        fail("tensor '" + e.name + "': data starts at " + std::to_string(e.begin) +
             (e.begin < expected ? ", overlapping the tensor before it"
                                 : ", leaving a hole before it"));
      }
      expected = e.end;
    }
    if (expected != data_size_) {
      fail("tensor data ends at byte " + std::to_string(expected) + " of a " +
           std::to_string(data_size_) + "-byte data section");
    }
  }

  [[noreturn]] void fail(const std::string& what) const { throw DataError(where_ + ": " + what); }

 private:
  const json* member(const json& j, const char* key, const std::string& what) const {
    auto it = j.find(key);
    if (it == j.end()) fail(what + ": no '" + key + "'");
    return &*it;
  }
  const json& array(const json& j, const char* key, const std::string& what) const {
    const json* a = member(j, key, what);
    if (!a->is_array()) fail(what + ": '" + key + "' is not an array");
    return *a;
  }

  std::string where_;
  std::uint64_t data_size_;
};

std::uint64_t read_header_size(const checkpoint::InputFile& file) {
  std::byte prefix[8];
  file.read(0, prefix, "safetensors header length");
  const auto n = checkpoint::load_le<std::uint64_t>(prefix);
  if (n > file.size() - 8 || n > kMaxHeader) {
    throw DataError(file.path().string() + ": safetensors header length " + std::to_string(n) +
                    " exceeds the " + std::to_string(file.size()) + "-byte file (or 100 MiB)");
  }
  return n;
}

}  // namespace

SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  checkpoint::InputFile file(path);
  const std::uint64_t header_size = read_header_size(file);
  const std::vector<std::byte> text =
      file.read(8, static_cast<std::size_t>(header_size), "safetensors header");
  const std::string where = path.string();
  const json header = checkpoint::parse_json(text, where + ": safetensors header");
  const std::uint64_t data_start = 8 + header_size;
  HeaderParser parser(where, file.size() - data_start);
  if (!header.is_object()) parser.fail("safetensors header is not a JSON object");

  SafetensorsFile out;
  out.path = path;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__")
      out.metadata = parser.metadata(value);
    else
      entries.push_back(parser.entry(name, value));
  }
  parser.check_layout(entries);
  for (const Entry& e : entries) {
    auto storage = Storage::allocate(static_cast<std::size_t>(e.end - e.begin));
    file.read(data_start + e.begin, std::span<std::byte>(storage->data(), storage->nbytes()),
              "tensor '" + e.name + "'");
    if (e.dtype == DType::Bool) checkpoint::normalize_bools(storage->data(), storage->nbytes());
    try {
      HostTensor t(e.dtype, e.shape, HostTensor::contiguous_strides(e.shape), 0, storage);
      out.tensors.push_back({e.name, std::move(t)});
    } catch (const std::invalid_argument& error) {
      parser.fail("tensor '" + e.name + "': " + error.what());
    }
  }
  return out;
}

const HostTensor& SafetensorsFile::tensor(std::string_view name) const {
  return require_tensor(tensors, name, path.string());
}

void save_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<HostTensor> contiguous;
  std::set<std::string> seen;
  std::uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    if (t.name == "__metadata__" || !seen.insert(t.name).second) {
      throw Error(path.string() + ": cannot save tensor name '" + t.name + "' twice or reserved");
    }
    contiguous.push_back(t.tensor.contiguous());
    const std::uint64_t n = contiguous.back().nbytes();
    header[t.name] = {{"dtype", dtype_name(t.tensor.dtype())},
                      {"shape", t.tensor.shape()},
                      {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data 8-byte aligned, as the reference writer does

  checkpoint::OutputFile out(path);
  std::vector<std::byte> prefix;
  checkpoint::append_le<std::uint64_t>(prefix, text.size());
  checkpoint::append_bytes(prefix, text);
  out.write(prefix);
  for (const HostTensor& t : contiguous) {
    out.write(std::span<const std::byte>(t.data(), t.nbytes()));
  }
  out.commit();
}

}  // namespace othrun
