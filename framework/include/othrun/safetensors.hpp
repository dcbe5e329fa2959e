// safetensors files (Hugging Face; SAELens' sae_weights.safetensors): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
// then the raw little-endian tensor bytes. Dtypes: BOOL U8 I8 I16 I32 I64 U64 F16 BF16 F32 F64.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <othrun/tensor.hpp>

namespace othrun {

struct SafetensorsFile {
  std::filesystem::path path;
  std::vector<NamedTensor> tensors;             // in file order
  std::map<std::string, std::string> metadata;  // the header's "__metadata__"

  const HostTensor* find(std::string_view name) const { return find_tensor(tensors, name); }
  // Throws othrun::DataError naming the file, the name and the tensors the file does hold.
  const HostTensor& tensor(std::string_view name) const;
};

// Throws othrun::DataError naming the file and the tensor on a malformed header, offsets that do
// not match shapes or leave holes, or a truncated file.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// Writes contiguous copies of `tensors` in the given order (names must be unique). Writes to
// `path`.partial, then renames. Throws othrun::Error.
void save_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace othrun
