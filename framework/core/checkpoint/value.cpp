#include <othrun/error.hpp>
#include <othrun/pth.hpp>

#include <array>

namespace othrun {

struct Value::Data {
  std::string text;  // String, Bytes, Device, DType; Global/Object: module
  std::string name;  // Global/Object: class or function name
  Items items;       // List, Tuple, Set; Object: constructor args
  DictItems dict;    // Dict; Object: entries
  Value state;       // Object, Dict: what BUILD set
  HostTensor tensor;
  bool ordered = false;  // Dict: collections.OrderedDict
};

// ---- construction ----

Value::Value(bool value) : kind_(Kind::Bool), bool_(value) {}
Value::Value(std::int64_t value) : kind_(Kind::Int), int_(value) {}
Value::Value(double value) : kind_(Kind::Float), float_(value) {}

Value::Value(std::string value) : kind_(Kind::String) {
  auto d = std::make_shared<Data>();
  d->text = std::move(value);
  data_ = std::move(d);
}

Value::Value(HostTensor tensor) : kind_(Kind::Tensor) {
  auto d = std::make_shared<Data>();
  d->tensor = std::move(tensor);
  data_ = std::move(d);
}

Value Value::list(Items items) {
  auto d = std::make_shared<Data>();
  d->items = std::move(items);
  return Value(Kind::List, std::move(d));
}

Value Value::tuple(Items items) {
  auto d = std::make_shared<Data>();
  d->items = std::move(items);
  return Value(Kind::Tuple, std::move(d));
}

Value Value::set(Items items) {
  auto d = std::make_shared<Data>();
  d->items = std::move(items);
  return Value(Kind::Set, std::move(d));
}

Value Value::dict(DictItems items) {
  auto d = std::make_shared<Data>();
  d->dict = std::move(items);
  return Value(Kind::Dict, std::move(d));
}

Value Value::ordered_dict(DictItems items) { return ordered_dict_with_state(std::move(items), {}); }

Value Value::ordered_dict_with_state(DictItems items, Value state) {
  auto d = std::make_shared<Data>();
  d->dict = std::move(items);
  d->ordered = true;
  d->state = std::move(state);
  return Value(Kind::Dict, std::move(d));
}

Value Value::bytes(std::string data) {
  Value v(std::move(data));
  v.kind_ = Kind::Bytes;
  return v;
}

Value Value::device(std::string name) {
  Value v(std::move(name));
  v.kind_ = Kind::Device;
  return v;
}

Value Value::torch_dtype(std::string name) {
  Value v(std::move(name));
  v.kind_ = Kind::DType;
  return v;
}

Value Value::global(std::string module, std::string name) {
  auto d = std::make_shared<Data>();
  d->text = std::move(module);
  d->name = std::move(name);
  return Value(Kind::Global, std::move(d));
}

Value Value::object(std::string module, std::string name, Items args, Value state,
                    DictItems entries) {
  auto d = std::make_shared<Data>();
  d->text = std::move(module);
  d->name = std::move(name);
  d->items = std::move(args);
  d->state = std::move(state);
  d->dict = std::move(entries);
  return Value(Kind::Object, std::move(d));
}

// ---- access ----

const Value::Data& Value::data(Kind expected) const { return data(expected, expected); }

const Value::Data& Value::data(Kind expected, Kind alternative) const {
  if (kind_ != expected && kind_ != alternative) {
    throw DataError(std::string("expected ") + to_string(expected) + ", got " + to_string(kind_));
  }
  return *data_;
}

bool Value::as_bool() const {
  if (kind_ != Kind::Bool) data(Kind::Bool);  // throws
  return bool_;
}

std::int64_t Value::as_int() const {
  if (kind_ != Kind::Int) data(Kind::Int);
  return int_;
}

double Value::as_float() const {
  if (kind_ == Kind::Int) return static_cast<double>(int_);
  if (kind_ != Kind::Float) data(Kind::Float);
  return float_;
}

const std::string& Value::as_string() const {
  if (kind_ == Kind::Bytes || kind_ == Kind::Device || kind_ == Kind::DType) return data_->text;
  return data(Kind::String).text;
}

const HostTensor& Value::as_tensor() const { return data(Kind::Tensor).tensor; }

std::optional<DType> Value::as_dtype() const {
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

const Value::Items& Value::items() const {
  if (kind_ == Kind::Tuple || kind_ == Kind::Set || kind_ == Kind::Object) return data_->items;
  return data(Kind::List).items;
}

const Value::DictItems& Value::dict_items() const { return data(Kind::Dict, Kind::Object).dict; }

bool Value::is_ordered_dict() const { return kind_ == Kind::Dict && data_->ordered; }

const std::string& Value::module() const { return data(Kind::Object, Kind::Global).text; }
const std::string& Value::name() const { return data(Kind::Object, Kind::Global).name; }
std::string Value::class_name() const { return module() + "." + name(); }

const Value& Value::state() const { return data(Kind::Object, Kind::Dict).state; }

namespace {

const Value* find_in(const Value::DictItems& items, std::string_view key) {
  for (const auto& [k, v] : items) {
    if (k.kind() == Value::Kind::String && k.as_string() == key) return &v;
  }
  return nullptr;
}

}  // namespace

const Value* Value::find(std::string_view key) const {
  if (kind_ == Kind::Dict) return find_in(data_->dict, key);
  if (kind_ != Kind::Object) return nullptr;
  if (const Value* v = find_in(data_->dict, key)) return v;
  const Value& state = data_->state;
  if (state.kind() == Kind::Dict) return find_in(state.dict_items(), key);
  // (dict, slots) as pickled for classes with __slots__
  if (state.kind() == Kind::Tuple && state.items().size() == 2) {
    for (const Value& part : state.items()) {
      if (part.kind() != Kind::Dict) continue;
      if (const Value* v = find_in(part.dict_items(), key)) return v;
    }
  }
  return nullptr;
}

const Value& Value::operator[](std::string_view key) const {
  if (const Value* v = find(key)) return *v;
  std::string what = kind_ == Kind::Object ? class_name() : to_string(kind_);
  throw DataError("no key '" + std::string(key) + "' in " + what);
}

const char* to_string(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::None:
      return "None";
    case Value::Kind::Bool:
      return "bool";
    case Value::Kind::Int:
      return "int";
    case Value::Kind::Float:
      return "float";
    case Value::Kind::String:
      return "str";
    case Value::Kind::Bytes:
      return "bytes";
    case Value::Kind::List:
      return "list";
    case Value::Kind::Tuple:
      return "tuple";
    case Value::Kind::Set:
      return "set";
    case Value::Kind::Dict:
      return "dict";
    case Value::Kind::Tensor:
      return "tensor";
    case Value::Kind::Device:
      return "torch.device";
    case Value::Kind::DType:
      return "torch.dtype";
    case Value::Kind::Global:
      return "global";
    case Value::Kind::Object:
      return "object";
  }
  return "?";
}

}  // namespace othrun
