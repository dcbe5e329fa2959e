// Reads the pickles torch.save writes (protocols 1 to 5) without executing anything: only a fixed
// list of globals gets a meaning (tensor rebuild functions, OrderedDict, torch.device, torch
// dtypes, set, ...); any other class becomes a generic PyValue object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <othrun/pth.hpp>
#include <othrun/tensor.hpp>

namespace othrun::checkpoint {

// A storage named by a torch persistent id ('storage', torch.FloatStorage, key, location, numel).
struct StorageRequest {
  DType dtype;
  std::string key;
  std::int64_t numel;  // elements of dtype
};

// Returns the storage's bytes (the caller loads each key once) or throws DataError.
using StorageLoader = std::function<std::shared_ptr<Storage>(const StorageRequest&)>;

struct Unpickled {
  PyValue root;
  int protocol = 0;  // from the PROTO opcode; 0 if absent
};

// `where` ("model.pth: archive/data.pkl") starts every error message, followed by the byte offset
// of the failing opcode.
Unpickled unpickle(std::span<const std::byte> data, const std::string& where,
                   const StorageLoader& load_storage);

}  // namespace othrun::checkpoint
