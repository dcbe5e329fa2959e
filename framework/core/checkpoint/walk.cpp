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

  void walk(const std::string& path, const PyValue& value, int depth) {
    if (++visits_ > max_visits_) {
      throw DataError("more than " + std::to_string(max_visits_) +
                      " value paths (too many shared references)");
    }
    if (depth > kMaxDepth)
      throw DataError("values nested deeper than " + std::to_string(kMaxDepth));
    if (!visit_(path, value)) return;
    using K = PyValue::Kind;
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

  void sequence(const std::string& path, const PyValue::Items& items, int depth) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      walk(join(path, std::to_string(i)), items[i], depth + 1);
    }
  }

  void pairs(const std::string& path, const PyValue::DictItems& items, int depth) {
    for (const auto& [key, value] : items) walk(join(path, key_text(key)), value, depth + 1);
  }

  void object(const std::string& path, const PyValue& value, int depth) {
    sequence(path, value.items(), depth);
    pairs(path, value.dict_items(), depth);
    const PyValue& state = value.state();
    if (state.kind() == PyValue::Kind::Dict) {
      pairs(path, state.dict_items(), depth);
    } else if (state.kind() == PyValue::Kind::Tuple && state.items().size() == 2 &&
               (state.items()[0].kind() == PyValue::Kind::Dict || state.items()[0].is_none())) {
      for (const PyValue& part : state.items()) {  // (dict, slots) of a class with __slots__
        if (part.kind() == PyValue::Kind::Dict) pairs(path, part.dict_items(), depth);
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

void walk_values(const PyValue& root, const ValueVisitor& visit, std::size_t max_visits) {
  Walker(visit, max_visits).walk("", root, 0);
}

std::string key_text(const PyValue& key) {
  switch (key.kind()) {
    case PyValue::Kind::String:
    case PyValue::Kind::Bytes:
      return key.as_string();
    case PyValue::Kind::Int:
      return std::to_string(key.as_int());
    default:
      return key.repr(60);
  }
}

}  // namespace othrun::checkpoint

namespace othrun {

std::vector<NamedTensor> flatten_tensors(const PyValue& root) {
  std::vector<NamedTensor> out;
  checkpoint::walk_values(root, [&](const std::string& path, const PyValue& value) {
    if (value.kind() == PyValue::Kind::Tensor) out.push_back({path, value.as_tensor()});
    return true;
  });
  return out;
}

PyValue make_state_dict(const std::vector<NamedTensor>& tensors) {
  PyValue::DictItems items;
  items.reserve(tensors.size());
  for (const auto& t : tensors) items.emplace_back(PyValue(t.name), PyValue(t.tensor));
  return PyValue::ordered_dict(std::move(items));
}

}  // namespace othrun
