// What the unpickler does with GLOBAL, REDUCE/NEWOBJ and BINPERSID. Nothing named by the file is
// ever looked up or run: a fixed list of globals is interpreted here, everything else becomes a
// generic object holding its class name and arguments.
#include <array>
#include <optional>
#include <string_view>

#include "checkpoint/unpickler.hpp"

namespace othrun::checkpoint {

namespace {

// torch.<name> globals that are dtypes (torch pickles a dtype as a reference to it), with aliases
// mapped to the canonical name.
std::optional<std::string> torch_dtype_name(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kAliases{{
      {"float", "float32"},
      {"double", "float64"},
      {"half", "float16"},
      {"long", "int64"},
      {"int", "int32"},
      {"short", "int16"},
      {"cfloat", "complex64"},
      {"cdouble", "complex128"},
      {"chalf", "complex32"},
  }};
  static constexpr std::array<std::string_view, 21> kNames{
      "float32", "float64", "float16",  "bfloat16",  "int64",     "int32",      "int16",
      "int8",    "uint8",   "bool",     "complex32", "complex64", "complex128", "qint8",
      "quint8",  "qint32",  "quint4x2", "quint2x4",  "uint16",    "uint32",     "uint64"};
  for (const auto& [alias, canonical] : kAliases) {
    if (name == alias) return std::string(canonical);
  }
  for (std::string_view n : kNames) {
    if (name == n) return std::string(n);
  }
  if (name.starts_with("float8_")) return std::string(name);
  return std::nullopt;
}

// Element type of a torch storage class (torch.FloatStorage, torch.cuda.HalfStorage, ...).
std::optional<DType> storage_dtype(std::string_view module, std::string_view name) {
  if (module != "torch" && module != "torch.cuda") return std::nullopt;
  static constexpr std::array<std::pair<std::string_view, DType>, 11> kStorages{{
      {"FloatStorage", DType::Float32},
      {"DoubleStorage", DType::Float64},
      {"HalfStorage", DType::Float16},
      {"BFloat16Storage", DType::BFloat16},
      {"LongStorage", DType::Int64},
      {"IntStorage", DType::Int32},
      {"ShortStorage", DType::Int16},
      {"CharStorage", DType::Int8},
      {"ByteStorage", DType::UInt8},
      {"BoolStorage", DType::Bool},
      {"UntypedStorage", DType::UInt8},
  }};
  for (const auto& [n, dtype] : kStorages) {
    if (n == name) return dtype;
  }
  return std::nullopt;
}

// Python 3 pickles bytes at protocol 2 as _codecs.encode(text, 'latin1'): undo the text decoding.
std::optional<std::string> utf8_to_latin1(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xe0u) == 0xc0u && i + 1 < text.size() && c <= 0xc3u) {
      const auto next = static_cast<unsigned char>(text[++i]);
      out += static_cast<char>(((c & 0x1fu) << 6) | (next & 0x3fu));
    } else {
      return std::nullopt;  // a code point above U+00FF
    }
  }
  return out;
}

bool is_tensor_rebuild(std::string_view full) {
  return full == "torch._utils._rebuild_tensor_v2" || full == "torch._utils._rebuild_tensor" ||
         full == "torch._utils._rebuild_parameter" ||
         full == "torch._utils._rebuild_parameter_with_state";
}

}  // namespace

Item Unpickler::global(std::string module, std::string name) {
  Node n;
  if (module == "torch") {
    if (auto dtype = torch_dtype_name(name)) {
      n.kind = NodeKind::DType;
      n.text = *dtype;
      return add(std::move(n));
    }
  }
  n.kind = NodeKind::Global;
  n.text = std::move(module);
  n.more().name = std::move(name);
  return add(std::move(n));
}

std::string Unpickler::string_of(const Item& item, const char* what) {
  const Node& n = node_of(item, what);
  if (n.kind != NodeKind::String && n.kind != NodeKind::Bytes) {
    fail(std::string(what) + " is " + describe(item) + ", not a str");
  }
  return n.text;
}

std::vector<std::int64_t> Unpickler::int_tuple(const Item& item, const char* what) {
  const Node& n = node_of(item, what);
  if (n.kind != NodeKind::Tuple && n.kind != NodeKind::List) {
    fail(std::string(what) + " is " + describe(item) + ", not a tuple");
  }
  std::vector<std::int64_t> out;
  out.reserve(n.items.size());
  for (const Item& i : n.items) {
    if (i.tag != Item::Tag::Int) fail(std::string(what) + " holds " + describe(i));
    out.push_back(i.i);
  }
  return out;
}

// REDUCE and NEWOBJ: `callable(*args)` for the allow-listed globals, else a generic object.
Item Unpickler::call(const Item& callable, const Item& args) {
  const Node& fn = node_of(callable, "the called object");
  if (fn.kind != NodeKind::Global) fail("calling " + describe(callable));
  if (!args.is_node() || graph_[args.id()].kind != NodeKind::Tuple) {
    fail("the call's arguments are " + describe(args) + ", not a tuple");
  }
  const Node& a = graph_[args.id()];
  const std::vector<Item> arg_items = a.items;  // copies: adding nodes may move the graph
  std::string module = fn.text;
  std::string name = fn.more().name;
  bool known = false;
  Item out = call_known(module + "." + name, arg_items, known);
  if (known) return out;
  Node obj;
  obj.kind = NodeKind::Object;
  obj.text = std::move(module);
  obj.more().name = std::move(name);
  obj.items = arg_items;
  return add(std::move(obj));
}

Item Unpickler::call_known(const std::string& full, const std::vector<Item>& args, bool& known) {
  known = true;
  if (is_tensor_rebuild(full)) {
    if (full.find("parameter") == std::string::npos) {
      return rebuild_tensor(args, full.ends_with("_v2") ? 6 : 4);
    }
    if (args.empty() || !args[0].is_node() || graph_[args[0].id()].kind != NodeKind::Tensor) {
      fail(full + " of something that is not a tensor");
    }
    return args[0];  // a Parameter is its tensor; requires_grad does not matter here
  }
  if (full == "torch._tensor._rebuild_from_type_v2" || full == "torch._tensor._rebuild_from_type") {
    // Tensor subclasses: (rebuild function, subclass, its args, state). Only tensor rebuilds are
    // accepted as the inner function, so this cannot recurse.
    if (args.size() < 3) fail(full + " with " + std::to_string(args.size()) + " arguments");
    const Node& fn = node_of(args[0], "the rebuild function");
    std::string inner = fn.kind == NodeKind::Global ? fn.text + "." + fn.more().name : "";
    if (!is_tensor_rebuild(inner)) fail(full + " of " + describe(args[0]));
    const Node& inner_args = node_of(args[2], "the rebuild arguments");
    if (inner_args.kind != NodeKind::Tuple) fail(full + " with arguments " + describe(args[2]));
    return call_known(inner, std::vector<Item>(inner_args.items), known);
  }
  if (full == "collections.OrderedDict") return ordered_dict(args);
  if (full == "builtins.set" || full == "builtins.frozenset" || full == "__builtin__.set" ||
      full == "__builtin__.frozenset") {
    return make_set(args);
  }
  if (full == "_codecs.encode") return encode_bytes(args);
  if (full == "torch.device") return device(args);
  if (full == "torch.Size") {
    if (args.size() != 1) fail("torch.Size with " + std::to_string(args.size()) + " arguments");
    int_tuple(args[0], "torch.Size");
    return add_sequence(NodeKind::Tuple, graph_[args[0].id()].items);
  }
  if (full == "copyreg._reconstructor" || full == "copy_reg._reconstructor") {
    // Protocol < 2 pickles plain objects as _reconstructor(cls, object, None).
    if (args.empty()) fail(full + " without a class");
    const Node& cls = node_of(args[0], "the reconstructed class");
    if (cls.kind != NodeKind::Global) fail(full + " of " + describe(args[0]));
    Node obj;
    obj.kind = NodeKind::Object;
    obj.text = cls.text;
    obj.more().name = cls.more().name;
    return add(std::move(obj));
  }
  known = false;
  return {};
}

Item Unpickler::ordered_dict(const std::vector<Item>& args) {
  if (args.size() > 1) fail("OrderedDict with " + std::to_string(args.size()) + " arguments");
  std::vector<Item> pairs;
  if (args.size() == 1) {
    const Node& src = node_of(args[0], "OrderedDict's argument");
    if (src.kind == NodeKind::Dict) {
      pairs = src.more().entries;
    } else if (src.kind == NodeKind::List || src.kind == NodeKind::Tuple) {
      for (const Item& pair : src.items) {
        const Node& p = node_of(pair, "an OrderedDict item");
        if (p.kind != NodeKind::Tuple || p.items.size() != 2)
          fail("OrderedDict item is not a pair");
        pairs.insert(pairs.end(), p.items.begin(), p.items.end());
      }
    } else {
      fail("OrderedDict of " + describe(args[0]));
    }
  }
  Node n;
  n.kind = NodeKind::Dict;
  n.ordered = true;
  Item dict = add(std::move(n));
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    graph_.set_item(dict.id(), pairs[i], pairs[i + 1]);
  }
  return dict;
}

Item Unpickler::make_set(const std::vector<Item>& args) {
  if (args.empty()) return add_sequence(NodeKind::Set, {});
  const Node& src = node_of(args[0], "set's argument");
  if (args.size() > 1 ||
      (src.kind != NodeKind::List && src.kind != NodeKind::Tuple && src.kind != NodeKind::Set)) {
    fail("set of " + describe(args[0]));
  }
  return add_sequence(NodeKind::Set, std::vector<Item>(src.items));
}

Item Unpickler::encode_bytes(const std::vector<Item>& args) {
  if (args.size() != 2) fail("_codecs.encode with " + std::to_string(args.size()) + " arguments");
  std::string text = string_of(args[0], "_codecs.encode's text");
  std::string encoding = string_of(args[1], "_codecs.encode's encoding");
  Node n;
  n.kind = NodeKind::Bytes;
  if (encoding == "latin1" || encoding == "latin-1") {
    auto bytes = utf8_to_latin1(text);
    if (!bytes) fail("_codecs.encode: text is not latin-1");
    n.text = std::move(*bytes);
  } else if (encoding == "utf-8" || encoding == "utf8") {
    n.text = std::move(text);
  } else {
    fail("_codecs.encode with encoding '" + encoding.substr(0, 40) + "'");
  }
  return add(std::move(n));
}

// torch.device('cuda', 0) or torch.device('cuda:0'), kept as text "cuda:0".
Item Unpickler::device(const std::vector<Item>& args) {
  if (args.empty() || args.size() > 2) {
    fail("torch.device with " + std::to_string(args.size()) + " arguments");
  }
  Node n;
  n.kind = NodeKind::Device;
  n.text = string_of(args[0], "torch.device's type");
  if (args.size() == 2 && args[1].tag == Item::Tag::Int) {
    n.text += ':';  // (appending ":" + to_string() trips a GCC 12 -Wrestrict false positive)
    n.text += std::to_string(args[1].i);
  } else if (args.size() == 2 && args[1].tag != Item::Tag::None) {
    fail("torch.device index is " + describe(args[1]));
  }
  return add(std::move(n));
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) and the
// legacy _rebuild_tensor(storage, offset, size, stride). The view is checked against the storage
// before it is made.
Item Unpickler::rebuild_tensor(const std::vector<Item>& args, std::size_t min_args) {
  // The item under the call on the stack is the dict key the tensor will be stored under.
  std::string context;
  if (!stack_.empty() && stack_.back().is_node() &&
      graph_[stack_.back().id()].kind == NodeKind::String) {
    context = " '" + graph_[stack_.back().id()].text.substr(0, 80) + "'";
  }
  if (args.size() < min_args || args.size() > 7) {
    fail("tensor" + context + ": rebuilt from " + std::to_string(args.size()) + " arguments");
  }
  const Node& s = node_of(args[0], "a tensor's storage");
  if (s.kind != NodeKind::Storage) fail("tensor" + context + ": storage is " + describe(args[0]));
  if (args[1].tag != Item::Tag::Int) fail("tensor" + context + ": storage offset is not an int");
  const std::shared_ptr<Storage> storage = s.more().storage;
  const DType dtype = s.more().dtype;
  const std::string key = s.text;
  std::vector<std::int64_t> shape = int_tuple(args[2], "a tensor's size");
  std::vector<std::int64_t> strides = int_tuple(args[3], "a tensor's stride");
  std::string error = HostTensor::view_error(dtype, shape, strides, args[1].i, storage->nbytes());
  if (!error.empty()) fail("tensor" + context + " on storage '" + key + "': " + error);
  Node t;
  t.kind = NodeKind::Tensor;
  t.more().tensor =
      std::make_unique<HostTensor>(dtype, std::move(shape), std::move(strides), args[1].i, storage);
  return add(std::move(t));
}

// BINPERSID: torch's ('storage', storage type, key, location, numel) names a data/<key> record.
Item Unpickler::persistent_load(const Item& pid) {
  const Node& p = node_of(pid, "a persistent id");
  if (p.kind != NodeKind::Tuple) fail("persistent id is " + describe(pid));
  const std::vector<Item> f = p.items;
  if (f.size() != 5 || string_of(f[0], "persistent id tag") != "storage") {
    fail("persistent id is not ('storage', type, key, location, numel)");
  }
  const Node& type = node_of(f[1], "storage type");
  std::optional<DType> dtype;
  if (type.kind == NodeKind::Global) dtype = storage_dtype(type.text, type.more().name);
  if (!dtype) {
    fail("unsupported storage type " +
         (type.kind == NodeKind::Global ? type.text + "." + type.more().name : describe(f[1])));
  }
  std::string key =
      f[2].tag == Item::Tag::Int ? std::to_string(f[2].i) : string_of(f[2], "storage key");
  string_of(f[3], "storage location");
  if (f[4].tag != Item::Tag::Int || f[4].i < 0) fail("storage '" + key + "': bad element count");
  Node s;
  s.kind = NodeKind::Storage;
  NodeExtra& x = s.more();
  x.dtype = *dtype;
  x.numel = f[4].i;
  x.storage = loader_(StorageRequest{*dtype, key, f[4].i});
  const std::size_t itemsize = dtype_size(*dtype);
  if (!x.storage || x.storage->nbytes() % itemsize != 0 ||
      x.storage->nbytes() / itemsize != static_cast<std::uint64_t>(x.numel)) {
    fail("storage '" + key + "': size does not match its element count");
  }
  s.text = std::move(key);
  return add(std::move(s));
}

}  // namespace othrun::checkpoint
