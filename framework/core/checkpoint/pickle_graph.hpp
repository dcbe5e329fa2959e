// The object graph an unpickler builds: Python objects as nodes that later opcodes may still
// mutate (SETITEMS on a memoised dict), converted to an immutable othrun::PyValue once the pickle has
// been read. Nodes live in one vector and refer to each other by index, so a hostile pickle that
// builds a cycle cannot leak memory; the conversion rejects cycles and bounds nesting depth.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <othrun/pth.hpp>
#include <othrun/tensor.hpp>

namespace othrun::checkpoint {

using NodeId = std::uint32_t;

// A stack or container slot: scalars inline, everything else a node.
struct Item {
  enum class Tag : std::uint8_t { None, Bool, Int, Float, Node };
  Tag tag = Tag::None;
  std::int64_t i = 0;  // Bool, Int, Node id
  double f = 0;

  static Item boolean(bool v) { return {Tag::Bool, v ? 1 : 0, 0}; }
  static Item integer(std::int64_t v) { return {Tag::Int, v, 0}; }
  static Item real(double v) { return {Tag::Float, 0, v}; }
  static Item node(NodeId id) { return {Tag::Node, static_cast<std::int64_t>(id), 0}; }
  bool is_node() const { return tag == Tag::Node; }
  NodeId id() const { return static_cast<NodeId>(i); }
};

enum class NodeKind : std::uint8_t {
  String,
  Bytes,
  List,
  Tuple,
  Set,
  Dict,
  Object,
  Global,
  Device,
  DType,
  Storage,
  Tensor,
};

const char* to_string(NodeKind kind);

// Positions of str and int keys in a dict's entries, so that SETITEM replaces in O(1).
struct KeyIndex {
  std::unordered_map<std::string, std::size_t> strings;
  std::unordered_map<std::int64_t, std::size_t> ints;
};

// What only some kinds of node need, kept apart so that the common nodes (strings, lists, tuples:
// a hostile pickle can make one per byte) stay small.
struct NodeExtra {
  std::string name;                    // Global, Object: class or function name
  std::vector<Item> entries;           // Dict, Object: key, value, key, value, ...
  Item state;                          // Dict, Object: what BUILD set
  KeyIndex index;                      // over entries
  std::unique_ptr<HostTensor> tensor;  // Tensor
  std::shared_ptr<Storage> storage;    // Storage
  DType dtype = DType::UInt8;          // Storage
  std::int64_t numel = 0;              // Storage
};

struct Node {
  NodeKind kind = NodeKind::String;
  bool ordered = false;     // Dict: collections.OrderedDict
  std::string text;         // String, Bytes, Device, DType, Storage key; Global, Object: module
  std::vector<Item> items;  // List, Tuple, Set; Object: constructor args
  std::unique_ptr<NodeExtra> extra;

  NodeExtra& more() {
    if (!extra) extra = std::make_unique<NodeExtra>();
    return *extra;
  }
  const NodeExtra& more() const {
    static const NodeExtra kEmpty;
    return extra ? *extra : kEmpty;
  }
};

class Graph {
 public:
  NodeId add(Node node);
  Node& operator[](NodeId id) { return nodes_[id]; }
  const Node& operator[](NodeId id) const { return nodes_[id]; }
  std::size_t size() const { return nodes_.size(); }

  // Sets entries[key] = value, replacing an earlier str or int key as a Python dict would.
  void set_item(NodeId target, const Item& key, const Item& value);

  // The immutable value of `root`. Shared nodes become shared subtrees. Throws DataError (prefixed
  // with `where`) on a cycle or nesting deeper than kMaxDepth.
  PyValue to_value(const Item& root, const std::string& where) const;

  static constexpr int kMaxDepth = 200;
  // Far above any checkpoint (a state dict needs about ten per tensor), far below what would
  // exhaust memory.
  static constexpr std::size_t kMaxNodes = std::size_t{1} << 22;

 private:
  std::vector<Node> nodes_;
};

}  // namespace othrun::checkpoint
