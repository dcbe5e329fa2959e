// The pickle machine behind unpickle(): opcodes in unpickler.cpp, the allow-listed globals and
// tensor reconstruction in pickle_calls.cpp.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checkpoint/pickle_graph.hpp"
#include "checkpoint/pickle_reader.hpp"

namespace othrun::checkpoint {

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> data, const std::string& where, const StorageLoader& loader)
      : data_(data), where_(where), loader_(loader) {}
  Unpickled run();

 private:
  // Input
  std::uint8_t u8();
  template <class T>
  T le();
  std::span<const std::byte> take(std::uint64_t n);
  std::string_view line();
  // Stack
  void push(const Item& item);
  Item pop();
  Item& top();
  std::vector<Item> pop_mark();
  Item add(Node node) { return Item::node(graph_.add(std::move(node))); }
  Item add_sequence(NodeKind kind, std::vector<Item> items);
  Item add_text(NodeKind kind, std::span<const std::byte> bytes);
  Node& node_of(const Item& item, const char* what);
  std::string describe(const Item& item) const;
  [[noreturn]] void fail(const std::string& what) const;

  // Opcodes (unpickler.cpp)
  bool step();  // false after STOP
  bool scalar_op(std::uint8_t op);
  bool text_op(std::uint8_t op);
  bool container_op(std::uint8_t op);
  bool stack_op(std::uint8_t op);
  bool object_op(std::uint8_t op);
  void long_int(std::uint64_t n);
  void set_items(std::vector<Item> pairs);
  void append_items(std::vector<Item> items, NodeKind expected);
  void build();
  std::int64_t text_int(std::string_view text);

  // Globals and calls (pickle_calls.cpp)
  Item global(std::string module, std::string name);
  Item call(const Item& callable, const Item& args);
  Item call_known(const std::string& full, const std::vector<Item>& args, bool& known);
  Item ordered_dict(const std::vector<Item>& args);
  Item make_set(const std::vector<Item>& args);
  Item encode_bytes(const std::vector<Item>& args);
  Item device(const std::vector<Item>& args);
  Item rebuild_tensor(const std::vector<Item>& args, std::size_t min_args);
  Item persistent_load(const Item& pid);
  std::vector<std::int64_t> int_tuple(const Item& item, const char* what);
  std::string string_of(const Item& item, const char* what);

  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  const std::string& where_;
  const StorageLoader& loader_;
  Graph graph_;
  std::vector<Item> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, Item> memo_;
  int protocol_ = 0;
  Item result_;
};

}  // namespace othrun::checkpoint
