#include "checkpoint/walk.hpp"

#include <othrun/error.hpp>

namespace othrun::checkpoint {

namespace {

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

class Walker {
 public:
  Walker(const ValueVisitor& visit, std::size_t max_visits)
      : visit_(visit), max_visits_(max_visits) {}

  void walk(const std::string& path, const Value& value, int depth) {
    if (++visits_ > max_visits_) {
      throw DataError("more than " + std::to_string(max_visits_) +
                      " value paths (too many shared references)");
    }
    if (depth > kMaxDepth)
      throw DataError("values nested deeper than " + std::to_string(kMaxDepth));
    if (!visit_(path, value)) return;
    using K = Value::Kind;
    switch (value.kind()) {
      case K::Dict:
        pairs(path, value.dict_items(), depth);
        break;
      case K::List:
      case K::Tuple:
      case K::Set:
        sequence(path, value.items(), depth);
        break;
      case K::Object:
        object(path, value, depth);
        break;
      default:
        break;
    }
  }

 private:
  static constexpr int kMaxDepth = 256;

  void sequence(const std::string& path, const Value::Items& items, int depth) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      walk(join(path, std::to_string(i)), items[i], depth + 1);
    }
  }

  void pairs(const std::string& path, const Value::DictItems& items, int depth) {
    for (const auto& [key, value] : items) walk(join(path, key_text(key)), value, depth + 1);
  }

  void object(const std::string& path, const Value& value, int depth) {
    sequence(path, value.items(), depth);
    pairs(path, value.dict_items(), depth);
    const Value& state = value.state();
    if (state.kind() == Value::Kind::Dict) {
      pairs(path, state.dict_items(), depth);
    } else if (state.kind() == Value::Kind::Tuple && state.items().size() == 2 &&
               (state.items()[0].kind() == Value::Kind::Dict || state.items()[0].is_none())) {
      for (const Value& part : state.items()) {  // (dict, slots) of a class with __slots__
        if (part.kind() == Value::Kind::Dict) pairs(path, part.dict_items(), depth);
      }
    } else if (!state.is_none()) {
      walk(join(path, "__state__"), state, depth + 1);
    }
  }

  const ValueVisitor& visit_;
  std::size_t max_visits_;
  std::size_t visits_ = 0;
};

}  // namespace

void walk_values(const Value& root, const ValueVisitor& visit, std::size_t max_visits) {
  Walker(visit, max_visits).walk("", root, 0);
}

std::string key_text(const Value& key) {
  switch (key.kind()) {
    case Value::Kind::String:
    case Value::Kind::Bytes:
      return key.as_string();
    case Value::Kind::Int:
      return std::to_string(key.as_int());
    default:
      return key.repr(60);
  }
}

}  // namespace othrun::checkpoint

namespace othrun {

std::vector<NamedTensor> flatten_tensors(const Value& root) {
  std::vector<NamedTensor> out;
  checkpoint::walk_values(root, [&](const std::string& path, const Value& value) {
    if (value.kind() == Value::Kind::Tensor) out.push_back({path, value.as_tensor()});
    return true;
  });
  return out;
}

Value make_state_dict(const std::vector<NamedTensor>& tensors) {
  Value::DictItems items;
  items.reserve(tensors.size());
  for (const auto& t : tensors) items.emplace_back(Value(t.name), Value(t.tensor));
  return Value::ordered_dict(std::move(items));
}

}  // namespace othrun
