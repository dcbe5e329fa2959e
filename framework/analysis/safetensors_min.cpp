#include "safetensors_min.hpp"

#include <othrun/error.hpp>
#include <othrun/tensor.hpp>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

namespace othrun::analysis::detail {

namespace {

std::size_t element_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "F64") return 8;
  return 0;
}

float element(const std::string& dtype, const char* p) {
  if (dtype == "F32") {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (dtype == "F64") {
    double v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  std::uint16_t bits;
  std::memcpy(&bits, p, 2);
  return dtype == "F16" ? half_to_float(bits) : bfloat16_to_float(bits);
}

}  // namespace

std::map<std::string, FloatTensor> read_safetensors(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string() + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string where = file.string() + ": ";
  if (bytes.size() < 8) throw DataError(where + "too short for a safetensors header");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)]);
  if (header_len > bytes.size() - 8)
    throw DataError(where + "header length past the end of the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, header_len));
  } catch (const std::exception& e) {
    throw DataError(where + "bad JSON header: " + e.what());
  }
  const std::size_t data_start = 8 + header_len;
  std::map<std::string, FloatTensor> out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string dtype = info.at("dtype").get<std::string>();
    const std::size_t size = element_size(dtype);
    if (size == 0) throw DataError(where + name + ": unsupported dtype " + dtype);
    FloatTensor t;
    t.shape = info.at("shape").get<std::vector<std::int64_t>>();
    const auto offsets = info.at("data_offsets").get<std::vector<std::uint64_t>>();
    std::uint64_t count = 1;
    for (auto d : t.shape) count *= static_cast<std::uint64_t>(d);
    if (offsets.size() != 2 || offsets[1] < offsets[0] || offsets[1] - offsets[0] != count * size ||
        data_start + offsets[1] > bytes.size()) {
      throw DataError(where + name + ": data_offsets do not match its shape and dtype");
    }
    t.values.resize(count);
    const char* base = bytes.data() + data_start + offsets[0];
    for (std::uint64_t i = 0; i < count; ++i) t.values[i] = element(dtype, base + i * size);
    out.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace othrun::analysis::detail
