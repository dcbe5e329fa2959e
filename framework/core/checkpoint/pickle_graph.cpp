#include "checkpoint/pickle_graph.hpp"

#include <othrun/error.hpp>

namespace othrun::checkpoint {

const char* to_string(NodeKind kind) {
  switch (kind) {
    case NodeKind::String:
      return "str";
    case NodeKind::Bytes:
      return "bytes";
    case NodeKind::List:
      return "list";
    case NodeKind::Tuple:
      return "tuple";
    case NodeKind::Set:
      return "set";
    case NodeKind::Dict:
      return "dict";
    case NodeKind::Object:
      return "object";
    case NodeKind::Global:
      return "global";
    case NodeKind::Device:
      return "torch.device";
    case NodeKind::DType:
      return "torch.dtype";
    case NodeKind::Storage:
      return "storage";
    case NodeKind::Tensor:
      return "tensor";
  }
  return "?";
}

NodeId Graph::add(Node node) {
  if (nodes_.size() >= kMaxNodes) {
    throw DataError("more than " + std::to_string(kMaxNodes) + " objects in the pickle");
  }
  nodes_.push_back(std::move(node));
  return static_cast<NodeId>(nodes_.size() - 1);
}

void Graph::set_item(NodeId target, const Item& key, const Item& value) {
  NodeExtra& node = nodes_[target].more();
  std::size_t* slot = nullptr;
  const std::size_t next = node.entries.size();
  if (key.tag == Item::Tag::Int) {
    auto [it, fresh] = node.index.ints.emplace(key.i, next);
    if (!fresh) slot = &it->second;
  } else if (key.is_node() && nodes_[key.id()].kind == NodeKind::String) {
    auto [it, fresh] = node.index.strings.emplace(nodes_[key.id()].text, next);
    if (!fresh) slot = &it->second;
  }
  if (slot) {
    node.entries[*slot + 1] = value;
    return;
  }
  node.entries.push_back(key);
  node.entries.push_back(value);
}

namespace {

// Depth-first conversion; each node is converted once, so shared nodes stay shared.
class Converter {
 public:
  Converter(const Graph& graph, const std::string& where)
      : graph_(graph), where_(where), values_(graph.size()), state_(graph.size(), kTodo) {}

  PyValue convert(const Item& item, int depth) {
    switch (item.tag) {
      case Item::Tag::None:
        return PyValue();
      case Item::Tag::Bool:
        return PyValue(item.i != 0);
      case Item::Tag::Int:
        return PyValue(item.i);
      case Item::Tag::Float:
        return PyValue(item.f);
      case Item::Tag::Node:
        break;
    }
    const NodeId id = item.id();
    if (state_[id] == kDone) return values_[id];
    if (state_[id] == kBusy) fail("an object contains itself (cyclic reference)");
    if (depth > Graph::kMaxDepth) {
      fail("values nested deeper than " + std::to_string(Graph::kMaxDepth) + " levels");
    }
    state_[id] = kBusy;
    values_[id] = build(graph_[id], depth);
    state_[id] = kDone;
    return values_[id];
  }

 private:
  enum State : std::uint8_t { kTodo, kBusy, kDone };

  [[noreturn]] void fail(const std::string& what) const { throw DataError(where_ + ": " + what); }

  PyValue::Items items(const std::vector<Item>& in, int depth) {
    PyValue::Items out;
    out.reserve(in.size());
    for (const Item& i : in) out.push_back(convert(i, depth + 1));
    return out;
  }

  PyValue::DictItems pairs(const std::vector<Item>& in, int depth) {
    PyValue::DictItems out;
    out.reserve(in.size() / 2);
    for (std::size_t i = 0; i + 1 < in.size(); i += 2) {
      out.emplace_back(convert(in[i], depth + 1), convert(in[i + 1], depth + 1));
    }
    return out;
  }

  PyValue build(const Node& n, int depth) {
    const NodeExtra& x = n.more();
    switch (n.kind) {
      case NodeKind::String:
        return PyValue(n.text);
      case NodeKind::Bytes:
        return PyValue::bytes(n.text);
      case NodeKind::List:
        return PyValue::list(items(n.items, depth));
      case NodeKind::Tuple:
        return PyValue::tuple(items(n.items, depth));
      case NodeKind::Set:
        return PyValue::set(items(n.items, depth));
      case NodeKind::Dict:
        if (!n.ordered) return PyValue::dict(pairs(x.entries, depth));
        return PyValue::ordered_dict_with_state(pairs(x.entries, depth), convert(x.state, depth + 1));
      case NodeKind::Object:
        return PyValue::object(n.text, x.name, items(n.items, depth), convert(x.state, depth + 1),
                             pairs(x.entries, depth));
      case NodeKind::Global:
        return PyValue::global(n.text, x.name);
      case NodeKind::Device:
        return PyValue::device(n.text);
      case NodeKind::DType:
        return PyValue::torch_dtype(n.text);
      case NodeKind::Storage:  // a bare storage: shown as the 1-D tensor it holds
        return PyValue(HostTensor(x.dtype, {x.numel}, {1}, 0, x.storage));
      case NodeKind::Tensor:
        return PyValue(*x.tensor);
    }
    return PyValue();
  }

  const Graph& graph_;
  const std::string& where_;
  std::vector<PyValue> values_;
  std::vector<std::uint8_t> state_;
};

}  // namespace

PyValue Graph::to_value(const Item& root, const std::string& where) const {
  return Converter(*this, where).convert(root, 0);
}

}  // namespace othrun::checkpoint
