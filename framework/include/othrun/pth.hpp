// PyTorch checkpoints (torch.save zip archives: .pth, .pt) read and written without Python or
// LibTorch. See docs/checkpoints.md.
//
//   othrun::PthFile f = othrun::load_pth("sae.pt");           // throws othrun::DataError
//   const othrun::HostTensor& w = f.tensor("state_dict.W_enc");
//   std::int64_t d_in = f.root["cfg"]["d_in"].as_int();       // a pickled dataclass's field
//
//   othrun::save_pth("probe.pth", othrun::PyValue::ordered_dict({{"weight", tensor}, {"step", 10}}));
//
// Reading never executes anything from the file: classes the reader does not know become generic
// PyValue objects (class name, constructor arguments, attribute dict).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <othrun/dtype.hpp>
#include <othrun/tensor.hpp>

namespace othrun {

// A Python value from a pickle: an immutable tree whose subtrees may be shared. Copies are cheap.
class PyValue {
 public:
  enum class Kind {
    None,
    Bool,
    Int,  // fits in 64 bits (wider integers are rejected when reading)
    Float,
    String,
    Bytes,
    List,
    Tuple,
    Set,   // set and frozenset
    Dict,  // dict and collections.OrderedDict, in insertion order
    Tensor,
    Device,  // torch.device: "cpu", "cuda:0"
    DType,   // torch.dtype: "float32", "bfloat16", ...
    Global,  // a reference to a class or function, e.g. a pickled enum type
    Object,  // an instance of any other class: module, name, constructor args, state
  };
  using Items = std::vector<PyValue>;
  using DictItems = std::vector<std::pair<PyValue, PyValue>>;

  PyValue() = default;  // None
  PyValue(std::nullptr_t) {}
  PyValue(bool value);
  PyValue(std::int64_t value);
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, std::int64_t>)
      PyValue(T value)
      : PyValue(checked_int(value)) {}
  PyValue(double value);
  PyValue(std::string value);
  PyValue(const char* value) : PyValue(std::string(value)) {}
  PyValue(HostTensor tensor);

  static PyValue list(Items items);
  static PyValue tuple(Items items);
  static PyValue set(Items items);
  static PyValue dict(DictItems items);          // a plain dict
  static PyValue ordered_dict(DictItems items);  // collections.OrderedDict, as state_dict() returns
  static PyValue bytes(std::string data);
  static PyValue device(std::string name);       // "cuda:0"
  static PyValue torch_dtype(std::string name);  // "float32" for torch.float32
  static PyValue global(std::string module, std::string name);
  // An object of class module.name. `entries` holds items set by SETITEM (dict subclasses such as
  // collections.defaultdict); `state` what BUILD set: usually the attribute dict.
  static PyValue object(std::string module, std::string name, Items args, PyValue state,
                      DictItems entries = {});
  // A dict with a BUILD state (an OrderedDict's attributes, e.g. state_dict()._metadata).
  static PyValue ordered_dict_with_state(DictItems items, PyValue state);

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }

  // Accessors throw othrun::DataError ("expected int, got str") when the kind differs.
  bool as_bool() const;
  std::int64_t as_int() const;
  double as_float() const;               // Float or Int
  const std::string& as_string() const;  // String, Bytes, Device, DType
  const HostTensor& as_tensor() const;
  std::optional<DType> as_dtype() const;  // a DType value othrun has an element type for
  const Items& items() const;             // List, Tuple, Set; an Object's constructor args
  const DictItems& dict_items() const;    // Dict; an Object's entries
  bool is_ordered_dict() const;
  const std::string& module() const;  // Global, Object
  const std::string& name() const;    // Global, Object
  std::string class_name() const;     // "module.name"
  const PyValue& state() const;         // Object or Dict: what BUILD set (None if nothing)

  // A dict item with string key `key`, or an object's attribute (from its state dict or entries).
  const PyValue* find(std::string_view key) const;
  const PyValue& operator[](std::string_view key) const;  // throws DataError naming the key

  // Python-like text, cut to about max_chars: "{'d_in': 512, 'device': device(type='cuda')}".
  std::string repr(std::size_t max_chars = 200) const;

 private:
  struct Data;
  template <class T>
  static std::int64_t checked_int(T value) {
    if (std::cmp_greater(value, INT64_MAX)) throw std::out_of_range("PyValue: integer over 2^63-1");
    return static_cast<std::int64_t>(value);
  }
  PyValue(Kind kind, std::shared_ptr<const Data> data) : kind_(kind), data_(std::move(data)) {}
  const Data& data(Kind expected) const;
  const Data& data(Kind expected, Kind alternative) const;

  Kind kind_ = Kind::None;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const Data> data_;
};

const char* to_string(PyValue::Kind kind);  // "int", "str", "OrderedDict"... as Python names them

// A loaded torch.save file.
struct PthFile {
  std::filesystem::path path;
  int pickle_protocol = 0;
  PyValue root;                        // what torch.load would return
  std::vector<NamedTensor> tensors;  // every tensor in root, named as flatten_tensors() does

  const HostTensor* find(std::string_view name) const { return find_tensor(tensors, name); }
  // Throws othrun::DataError naming the file, the name and the tensors the file does hold.
  const HostTensor& tensor(std::string_view name) const;
};

// Reads a torch.save zip archive (torch >= 1.6; the legacy pre-1.6 format and TorchScript archives
// are rejected with a DataError that says so). Throws othrun::DataError naming the file and the
// place (zip entry, pickle byte offset, tensor) on any corrupt, truncated or unsupported input.
PthFile load_pth(const std::filesystem::path& path);

// Writes `root` so that torch.load (also with weights_only=True) reads it: tensors, dicts (dict or
// OrderedDict), lists, tuples, str, int, bool, None, float. torch 1.13's weights_only=True loader
// rejects floats (it lacks the BINFLOAT opcode); newer torch and weights_only=False read them.
// Writes to `path`.partial, then renames. Throws othrun::Error on a value it cannot write.
void save_pth(const std::filesystem::path& path, const PyValue& root);

// Every tensor in `root` with its path: dict keys, object attributes and list/tuple indices joined
// by '.' ("state_dict.W_enc", "blocks.0.attn.W_Q"); a bare tensor is named "". A tensor reached by
// two paths appears twice (same storage).
std::vector<NamedTensor> flatten_tensors(const PyValue& root);

// An OrderedDict of name -> tensor, what save_pth writes for a model's state dict.
PyValue make_state_dict(const std::vector<NamedTensor>& tensors);

}  // namespace othrun
