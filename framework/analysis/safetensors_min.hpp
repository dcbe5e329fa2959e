// A minimal safetensors reader for SAELens weights (tensors converted to float32).
// TODO(lead): switch to othrun/safetensors.hpp once helper "checkpoint" ships it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace othrun::analysis::detail {

struct FloatTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

// Every tensor of the file; throws othrun::DataError naming the file on malformed input or a
// dtype other than F16, BF16, F32, F64.
std::map<std::string, FloatTensor> read_safetensors(const std::filesystem::path& file);

}  // namespace othrun::analysis::detail
