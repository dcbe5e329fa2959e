#include <othrun/error.hpp>
#include <othrun/pth.hpp>

#include <array>

namespace othrun {

struct PyValue::Data {
  std::string text;  // String, Bytes, Device, DType; Global/Object: module
  std::string name;  // Global/Object: class or function name
  Items items;       // List, Tuple, Set; Object: constructor args
  DictItems dict;    // Dict; Object: entries
  PyValue state;       // Object, Dict: what BUILD set
  HostTensor tensor;
  bool ordered = false;  // Dict: collections.OrderedDict
};

// ---- construction ----

PyValue::PyValue(bool value) : kind_(Kind::Bool), bool_(value) {}
PyValue::PyValue(std::int64_t value) : kind_(Kind::Int), int_(value) {}
PyValue::PyValue(double value) : kind_(Kind::Float), float_(value) {}

PyValue::PyValue(std::string value) : kind_(Kind::String) {
  auto d = std::make_shared<Data>();
  d->text = std::move(value);
  data_ = std::move(d);
}

PyValue::PyValue(HostTensor tensor) : kind_(Kind::Tensor) {
  auto d = std::make_shared<Data>();
  d->tensor = std::move(tensor);
  data_ = std::move(d);
}

PyValue PyValue::list(Items items) {
  auto d = std::make_shared<Data>();
  d->items = std::move(items);
  return PyValue(Kind::List, std::move(d));
}

PyValue PyValue::tuple(Items items) {
  auto d = std::make_shared<Data>();
  d->items = std::move(items);
  return PyValue(Kind::Tuple, std::move(d));
}

PyValue PyValue::set(Items items) {
  auto d = std::make_shared<Data>();
  d->items = std::move(items);
  return PyValue(Kind::Set, std::move(d));
}

PyValue PyValue::dict(DictItems items) {
  auto d = std::make_shared<Data>();
  d->dict = std::move(items);
  return PyValue(Kind::Dict, std::move(d));
}

PyValue PyValue::ordered_dict(DictItems items) { return ordered_dict_with_state(std::move(items), {}); }

PyValue PyValue::ordered_dict_with_state(DictItems items, PyValue state) {
  auto d = std::make_shared<Data>();
  d->dict = std::move(items);
  d->ordered = true;
  d->state = std::move(state);
  return PyValue(Kind::Dict, std::move(d));
}

PyValue PyValue::bytes(std::string data) {
  PyValue v(std::move(data));
  v.kind_ = Kind::Bytes;
  return v;
}

PyValue PyValue::device(std::string name) {
  PyValue v(std::move(name));
  v.kind_ = Kind::Device;
  return v;
}

PyValue PyValue::torch_dtype(std::string name) {
  PyValue v(std::move(name));
  v.kind_ = Kind::DType;
  return v;
}

PyValue PyValue::global(std::string module, std::string name) {
  auto d = std::make_shared<Data>();
  d->text = std::move(module);
  d->name = std::move(name);
  return PyValue(Kind::Global, std::move(d));
}

PyValue PyValue::object(std::string module, std::string name, Items args, PyValue state,
                    DictItems entries) {
  auto d = std::make_shared<Data>();
  d->text = std::move(module);
  d->name = std::move(name);
  d->items = std::move(args);
  d->state = std::move(state);
  d->dict = std::move(entries);
  return PyValue(Kind::Object, std::move(d));
}

// ---- access ----

const PyValue::Data& PyValue::data(Kind expected) const { return data(expected, expected); }

const PyValue::Data& PyValue::data(Kind expected, Kind alternative) const {
  if (kind_ != expected && kind_ != alternative) {
    throw DataError(std::string("expected ") + to_string(expected) + ", got " + to_string(kind_));
  }
  return *data_;
}

bool PyValue::as_bool() const {
  if (kind_ != Kind::Bool) data(Kind::Bool);  // throws
  return bool_;
}

std::int64_t PyValue::as_int() const {
  if (kind_ != Kind::Int) data(Kind::Int);
  return int_;
}

double PyValue::as_float() const {
  if (kind_ == Kind::Int) return static_cast<double>(int_);
  if (kind_ != Kind::Float) data(Kind::Float);
  return float_;
}

const std::string& PyValue::as_string() const {
  if (kind_ == Kind::Bytes || kind_ == Kind::Device || kind_ == Kind::DType) return data_->text;
  return data(Kind::String).text;
}

const HostTensor& PyValue::as_tensor() const { return data(Kind::Tensor).tensor; }

std::optional<DType> PyValue::as_dtype() const {
  static constexpr std::array<std::pair<std::string_view, DType>, 11> kNames{{
      {"bool", DType::Bool},
      {"uint8", DType::UInt8},
      {"int8", DType::Int8},
      {"int16", DType::Int16},
      {"int32", DType::Int32},
      {"int64", DType::Int64},
      {"uint64", DType::UInt64},
      {"float16", DType::Float16},
      {"bfloat16", DType::BFloat16},
      {"float32", DType::Float32},
      {"float64", DType::Float64},
  }};
  const std::string& name = data(Kind::DType).text;
  for (const auto& [n, dtype] : kNames) {
    if (n == name) return dtype;
  }
  return std::nullopt;
}

const PyValue::Items& PyValue::items() const {
  if (kind_ == Kind::Tuple || kind_ == Kind::Set || kind_ == Kind::Object) return data_->items;
  return data(Kind::List).items;
}

const PyValue::DictItems& PyValue::dict_items() const { return data(Kind::Dict, Kind::Object).dict; }

bool PyValue::is_ordered_dict() const { return kind_ == Kind::Dict && data_->ordered; }

const std::string& PyValue::module() const { return data(Kind::Object, Kind::Global).text; }
const std::string& PyValue::name() const { return data(Kind::Object, Kind::Global).name; }
std::string PyValue::class_name() const { return module() + "." + name(); }

const PyValue& PyValue::state() const { return data(Kind::Object, Kind::Dict).state; }

namespace {

const PyValue* find_in(const PyValue::DictItems& items, std::string_view key) {
  for (const auto& [k, v] : items) {
    if (k.kind() == PyValue::Kind::String && k.as_string() == key) return &v;
  }
  return nullptr;
}

}  // namespace

const PyValue* PyValue::find(std::string_view key) const {
  if (kind_ == Kind::Dict) return find_in(data_->dict, key);
  if (kind_ != Kind::Object) return nullptr;
  if (const PyValue* v = find_in(data_->dict, key)) return v;
  const PyValue& state = data_->state;
  if (state.kind() == Kind::Dict) return find_in(state.dict_items(), key);
  // (dict, slots) as pickled for classes with __slots__
  if (state.kind() == Kind::Tuple && state.items().size() == 2) {
    for (const PyValue& part : state.items()) {
      if (part.kind() != Kind::Dict) continue;
      if (const PyValue* v = find_in(part.dict_items(), key)) return v;
    }
  }
  return nullptr;
}

const PyValue& PyValue::operator[](std::string_view key) const {
  if (const PyValue* v = find(key)) return *v;
  std::string what = kind_ == Kind::Object ? class_name() : to_string(kind_);
  throw DataError("no key '" + std::string(key) + "' in " + what);
}

const char* to_string(PyValue::Kind kind) {
  switch (kind) {
    case PyValue::Kind::None:
      return "None";
    case PyValue::Kind::Bool:
      return "bool";
    case PyValue::Kind::Int:
      return "int";
    case PyValue::Kind::Float:
      return "float";
    case PyValue::Kind::String:
      return "str";
    case PyValue::Kind::Bytes:
      return "bytes";
    case PyValue::Kind::List:
      return "list";
    case PyValue::Kind::Tuple:
      return "tuple";
    case PyValue::Kind::Set:
      return "set";
    case PyValue::Kind::Dict:
      return "dict";
    case PyValue::Kind::Tensor:
      return "tensor";
    case PyValue::Kind::Device:
      return "torch.device";
    case PyValue::Kind::DType:
      return "torch.dtype";
    case PyValue::Kind::Global:
      return "global";
    case PyValue::Kind::Object:
      return "object";
  }
  return "?";
}

}  // namespace othrun
