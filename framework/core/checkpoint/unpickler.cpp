// The pickle opcodes (see CPython's Lib/pickletools.py for their definitions).
#include <bit>
#include <charconv>
#include <cstdio>
#include <cstring>

#include <othrun/error.hpp>

#include "checkpoint/le.hpp"
#include "checkpoint/unpickler.hpp"

namespace othrun::checkpoint {

namespace {

constexpr std::size_t kMaxMarks = 100000;
constexpr std::size_t kMaxStack = std::size_t{1} << 22;  // Python batches items by 1000
constexpr std::size_t kMaxLine = 4096;                   // GLOBAL names and text-protocol numbers

// Opcodes by name, as CPython's pickle module calls them.
enum Op : std::uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

}  // namespace

Unpickled unpickle(std::span<const std::byte> data, const std::string& where,
                   const StorageLoader& load_storage) {
  return Unpickler(data, where, load_storage).run();
}

Unpickled Unpickler::run() {
  while (step()) {
  }
  return {graph_.to_value(result_, where_), protocol_};
}

// ---- input and stack ----

void Unpickler::fail(const std::string& what) const {
  throw DataError(where_ + ": byte " + std::to_string(op_pos_) + ": " + what);
}

std::span<const std::byte> Unpickler::take(std::uint64_t n) {
  if (n > data_.size() - pos_) {
    fail("truncated: needs " + std::to_string(n) + " more bytes, " +
         std::to_string(data_.size() - pos_) + " left");
  }
  auto out = data_.subspan(pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return out;
}

std::uint8_t Unpickler::u8() { return static_cast<std::uint8_t>(take(1)[0]); }

template <class T>
T Unpickler::le() {
  return load_le<T>(take(sizeof(T)).data());
}

std::string_view Unpickler::line() {
  const std::size_t limit = std::min(data_.size() - pos_, kMaxLine);
  const auto* begin = reinterpret_cast<const char*>(data_.data() + pos_);
  const void* nl = std::memchr(begin, '\n', limit);
  if (!nl) fail("text argument without a newline within " + std::to_string(kMaxLine) + " bytes");
  std::string_view out(begin, static_cast<std::size_t>(static_cast<const char*>(nl) - begin));
  pos_ += out.size() + 1;
  return out;
}

void Unpickler::push(const Item& item) {
  if (stack_.size() >= kMaxStack) fail("more than " + std::to_string(kMaxStack) + " stack items");
  stack_.push_back(item);
}

Item Unpickler::pop() {
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= fence) fail("stack underflow");
  Item item = stack_.back();
  stack_.pop_back();
  return item;
}

Item& Unpickler::top() {
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= fence) fail("stack underflow");
  return stack_.back();
}

std::vector<Item> Unpickler::pop_mark() {
  if (marks_.empty()) fail("no MARK to pop to");
  std::vector<Item> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                          stack_.end());
  stack_.resize(marks_.back());
  marks_.pop_back();
  return items;
}

Item Unpickler::add_sequence(NodeKind kind, std::vector<Item> items) {
  Node n;
  n.kind = kind;
  n.items = std::move(items);
  return add(std::move(n));
}

Item Unpickler::add_text(NodeKind kind, std::span<const std::byte> bytes) {
  Node n;
  n.kind = kind;
  n.text.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return add(std::move(n));
}

Node& Unpickler::node_of(const Item& item, const char* what) {
  if (!item.is_node()) fail(std::string(what) + " is " + describe(item));
  return graph_[item.id()];
}

std::string Unpickler::describe(const Item& item) const {
  switch (item.tag) {
    case Item::Tag::None:
      return "None";
    case Item::Tag::Bool:
      return "a bool";
    case Item::Tag::Int:
      return "an int";
    case Item::Tag::Float:
      return "a float";
    case Item::Tag::Node:
      break;
  }
  const Node& n = graph_[item.id()];
  if (n.kind == NodeKind::Global || n.kind == NodeKind::Object) {
    return std::string("a ") + to_string(n.kind) + " " + n.text + "." + n.more().name;
  }
  return std::string("a ") + to_string(n.kind);
}

// ---- opcodes ----

bool Unpickler::step() {
  op_pos_ = pos_;
  if (pos_ >= data_.size()) fail("truncated: the pickle ends without a STOP opcode");
  const std::uint8_t op = u8();
  if (op == STOP) {
    result_ = pop();
    return false;
  }
  if (scalar_op(op) || text_op(op) || container_op(op) || stack_op(op) || object_op(op)) {
    return true;
  }
  char text[64];
  std::snprintf(text, sizeof text, "unsupported pickle opcode 0x%02x", op);
  std::string what(text);
  if (op >= 0x20 && op < 0x7f) what += std::string(" '") + static_cast<char>(op) + "'";
  if (op == NEXT_BUFFER || op == READONLY_BUFFER) what += " (out-of-band buffers)";
  fail(what);
}

bool Unpickler::scalar_op(std::uint8_t op) {
  switch (op) {
    case PROTO:
      protocol_ = u8();
      if (protocol_ > 5) fail("unknown pickle protocol " + std::to_string(protocol_));
      return true;
    case FRAME:
      le<std::uint64_t>();
      return true;  // frames only group opcodes for buffering
    case NONE:
      push(Item());
      return true;
    case NEWTRUE:
      push(Item::boolean(true));
      return true;
    case NEWFALSE:
      push(Item::boolean(false));
      return true;
    case BININT:
      push(Item::integer(le<std::int32_t>()));
      return true;
    case BININT1:
      push(Item::integer(u8()));
      return true;
    case BININT2:
      push(Item::integer(le<std::uint16_t>()));
      return true;
    case LONG1:
      long_int(u8());
      return true;
    case LONG4: {
      const auto n = le<std::int32_t>();
      if (n < 0) fail("LONG4 with negative length");
      long_int(static_cast<std::uint64_t>(n));
      return true;
    }
    case BINFLOAT: {
      std::uint64_t bits;
      std::memcpy(&bits, take(8).data(), 8);
      push(Item::real(std::bit_cast<double>(__builtin_bswap64(bits))));  // big-endian
      return true;
    }
    case BINUNICODE:
      push(add_text(NodeKind::String, take(le<std::uint32_t>())));
      return true;
    case SHORT_BINUNICODE:
      push(add_text(NodeKind::String, take(u8())));
      return true;
    case BINUNICODE8:
      push(add_text(NodeKind::String, take(le<std::uint64_t>())));
      return true;
    case SHORT_BINSTRING:
      push(add_text(NodeKind::String, take(u8())));
      return true;
    case BINSTRING: {
      const auto n = le<std::int32_t>();
      if (n < 0) fail("BINSTRING with negative length");
      push(add_text(NodeKind::String, take(static_cast<std::uint64_t>(n))));
      return true;
    }
    case SHORT_BINBYTES:
      push(add_text(NodeKind::Bytes, take(u8())));
      return true;
    case BINBYTES:
      push(add_text(NodeKind::Bytes, take(le<std::uint32_t>())));
      return true;
    case BINBYTES8:
    case BYTEARRAY8:
      push(add_text(NodeKind::Bytes, take(le<std::uint64_t>())));
      return true;
    default:
      return false;
  }
}

// Two's complement little-endian integer of n bytes; Python ints wider than 64 bits are refused.
void Unpickler::long_int(std::uint64_t n) {
  if (n > 8) fail("integer wider than 64 bits (" + std::to_string(n) + " bytes)");
  std::span<const std::byte> bytes = take(n);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  if (n > 0 && n < 8 && (static_cast<std::uint8_t>(bytes[n - 1]) & 0x80u)) {
    v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
  }
  push(Item::integer(static_cast<std::int64_t>(v)));
}

std::int64_t Unpickler::text_int(std::string_view text) {
  if (!text.empty() && text.back() == 'L') text.remove_suffix(1);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail("bad integer '" + std::string(text.substr(0, 40)) + "'");
  }
  return v;
}

// Text-protocol opcodes that protocol 1 pickles still use for bools and numbers.
bool Unpickler::text_op(std::uint8_t op) {
  switch (op) {
    case INT: {
      std::string_view text = line();
      if (text == "00" || text == "01")
        push(Item::boolean(text == "01"));
      else
        push(Item::integer(text_int(text)));
      return true;
    }
    case LONG:
      push(Item::integer(text_int(line())));
      return true;
    case FLOAT: {
      std::string_view text = line();
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) fail("bad float");
      push(Item::real(v));
      return true;
    }
    case GET: {
      auto it = memo_.find(static_cast<std::uint32_t>(text_int(line())));
      if (it == memo_.end()) fail("GET of a missing memo entry");
      push(it->second);
      return true;
    }
    case PUT:
      memo_[static_cast<std::uint32_t>(text_int(line()))] = top();
      return true;
    case PERSID:
      fail("text persistent ids (PERSID) are not written by torch.save");
    default:
      return false;
  }
}

bool Unpickler::container_op(std::uint8_t op) {
  switch (op) {
    case EMPTY_LIST:
      push(add_sequence(NodeKind::List, {}));
      return true;
    case EMPTY_TUPLE:
      push(add_sequence(NodeKind::Tuple, {}));
      return true;
    case EMPTY_SET:
      push(add_sequence(NodeKind::Set, {}));
      return true;
    case EMPTY_DICT: {
      Node n;
      n.kind = NodeKind::Dict;
      push(add(std::move(n)));
      return true;
    }
    case LIST:
      push(add_sequence(NodeKind::List, pop_mark()));
      return true;
    case TUPLE:
      push(add_sequence(NodeKind::Tuple, pop_mark()));
      return true;
    case FROZENSET:
      push(add_sequence(NodeKind::Set, pop_mark()));
      return true;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
      std::vector<Item> items(op - TUPLE1 + 1);
      for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
      push(add_sequence(NodeKind::Tuple, std::move(items)));
      return true;
    }
    case DICT: {
      std::vector<Item> pairs = pop_mark();
      Node n;
      n.kind = NodeKind::Dict;
      push(add(std::move(n)));
      set_items(std::move(pairs));
      return true;
    }
    case APPEND:
      append_items({pop()}, NodeKind::List);
      return true;
    case APPENDS:
      append_items(pop_mark(), NodeKind::List);
      return true;
    case ADDITEMS:
      append_items(pop_mark(), NodeKind::Set);
      return true;
    case SETITEM: {
      Item value = pop();
      Item key = pop();
      set_items({key, value});
      return true;
    }
    case SETITEMS:
      set_items(pop_mark());
      return true;
    default:
      return false;
  }
}

void Unpickler::set_items(std::vector<Item> pairs) {
  if (pairs.size() % 2 != 0) fail("SETITEMS with an odd number of items");
  Node& target = node_of(top(), "SETITEM target");
  if (target.kind != NodeKind::Dict && target.kind != NodeKind::Object) {
    fail("SETITEM on " + describe(top()));
  }
  const NodeId id = top().id();
  for (std::size_t i = 0; i < pairs.size(); i += 2) graph_.set_item(id, pairs[i], pairs[i + 1]);
}

void Unpickler::append_items(std::vector<Item> items, NodeKind expected) {
  Node& target = node_of(top(), "APPEND target");
  if (target.kind != expected) fail("APPEND/ADDITEMS on " + describe(top()));
  target.items.insert(target.items.end(), items.begin(), items.end());
}

bool Unpickler::stack_op(std::uint8_t op) {
  switch (op) {
    case MARK:
      if (marks_.size() >= kMaxMarks) fail("MARKs nested too deep");
      marks_.push_back(stack_.size());
      return true;
    case POP:
      if (!marks_.empty() && stack_.size() == marks_.back()) {
        marks_.pop_back();  // POP of a MARK
      } else {
        pop();
      }
      return true;
    case POP_MARK:
      pop_mark();
      return true;
    case DUP:
      push(top());
      return true;
    case BINPUT:
      memo_[u8()] = top();
      return true;
    case LONG_BINPUT:
      memo_[le<std::uint32_t>()] = top();
      return true;
    case MEMOIZE:
      memo_[static_cast<std::uint32_t>(memo_.size())] = top();
      return true;
    case BINGET:
    case LONG_BINGET: {
      const std::uint32_t key = op == BINGET ? u8() : le<std::uint32_t>();
      auto it = memo_.find(key);
      if (it == memo_.end()) fail("memo entry " + std::to_string(key) + " is missing");
      push(it->second);
      return true;
    }
    default:
      return false;
  }
}

bool Unpickler::object_op(std::uint8_t op) {
  switch (op) {
    case GLOBAL: {
      std::string module(line());
      std::string name(line());
      push(global(std::move(module), std::move(name)));
      return true;
    }
    case STACK_GLOBAL: {
      Item name = pop();
      Item module = pop();
      std::string m = string_of(module, "STACK_GLOBAL module");
      push(global(std::move(m), string_of(name, "STACK_GLOBAL name")));
      return true;
    }
    case REDUCE:
    case NEWOBJ: {
      Item args = pop();
      Item callable = pop();
      push(call(callable, args));
      return true;
    }
    case NEWOBJ_EX: {
      Item kwargs = pop();
      Item args = pop();
      Item cls = pop();
      Item result = call(cls, args);
      const Node& kw = node_of(kwargs, "NEWOBJ_EX keyword arguments");
      if (kw.kind == NodeKind::Dict && !kw.more().entries.empty() && result.is_node() &&
          graph_[result.id()].kind == NodeKind::Object) {
        graph_[result.id()].items.push_back(kwargs);
      }
      push(result);
      return true;
    }
    case BUILD:
      build();
      return true;
    case BINPERSID:
      push(persistent_load(pop()));
      return true;
    default:
      return false;
  }
}

// BUILD sets an object's state (its attribute dict for plain classes and dataclasses).
void Unpickler::build() {
  Item state = pop();
  Node& target = node_of(top(), "BUILD target");
  switch (target.kind) {
    case NodeKind::Object:
    case NodeKind::Dict:
      if (target.more().state.tag == Item::Tag::None) {
        target.more().state = state;
      } else {  // a second BUILD updates the attributes, as obj.__dict__.update(state) would
        const Item old = target.more().state;
        Node merged;
        merged.kind = NodeKind::Dict;
        const Item merged_item = add(std::move(merged));  // (may move the nodes: no refs kept)
        for (const Item& part : {old, state}) {
          if (!part.is_node() || graph_[part.id()].kind != NodeKind::Dict) continue;
          const std::vector<Item> entries = graph_[part.id()].more().entries;
          for (std::size_t i = 0; i + 1 < entries.size(); i += 2) {
            graph_.set_item(merged_item.id(), entries[i], entries[i + 1]);
          }
        }
        graph_[top().id()].more().state = merged_item;
      }
      return;
    case NodeKind::Tensor:
      return;  // Python attributes of a tensor: nothing othrun uses
    default:
      fail("BUILD on " + describe(top()));
  }
}

}  // namespace othrun::checkpoint
