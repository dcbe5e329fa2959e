// PyValue::repr: Python-like text of a value, cut short once it exceeds a length.
#include <othrun/pth.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace othrun {

namespace {

// As Python's repr: shortest round-trip digits, positional for exponents in [-4, 16).
std::string float_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string out(buf, end);
  const int exponent = std::atoi(out.c_str() + out.find('e') + 1);
  if (exponent >= -4 && exponent < 16) {
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed).ptr;
    out.assign(buf, end);
    if (out.find('.') == std::string::npos) out += ".0";
  }
  return out;
}

// Quoted with Python's escapes; bytes also escape everything above 0x7e (str keeps UTF-8 as is).
void append_quoted(std::string& out, const std::string& s, bool bytes) {
  out += '\'';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f || (bytes && u > 0x7f)) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '\'';
}

// Appends Python-like text until `limit` characters are reached; deeper values are skipped then.
class Printer {
 public:
  explicit Printer(std::size_t limit) : limit_(limit) {}

  void print(const PyValue& v, int depth = 0) {
    if (full()) return;
    if (depth > 64) {
      out_ += "...";
      return;
    }
    using K = PyValue::Kind;
    switch (v.kind()) {
      case K::None:
        out_ += "None";
        return;
      case K::Bool:
        out_ += v.as_bool() ? "True" : "False";
        return;
      case K::Int:
        out_ += std::to_string(v.as_int());
        return;
      case K::Float:
        out_ += float_text(v.as_float());
        return;
      case K::String:
        append_quoted(out_, v.as_string(), false);
        return;
      case K::Bytes:
        out_ += 'b';
        append_quoted(out_, v.as_string(), true);
        return;
      case K::List:
        sequence("[", v.items(), "]", depth);
        return;
      case K::Tuple:
        sequence("(", v.items(), v.items().size() == 1 ? ",)" : ")", depth);
        return;
      case K::Set:
        if (v.items().empty())
          out_ += "set()";
        else
          sequence("{", v.items(), "}", depth);
        return;
      case K::Dict:
        dict(v, depth);
        return;
      case K::Tensor:
        tensor(v.as_tensor());
        return;
      case K::Device:
        device(v.as_string());
        return;
      case K::DType:
        out_ += "torch." + v.as_string();
        return;
      case K::Global:
        out_ += "<class '" + v.class_name() + "'>";
        return;
      case K::Object:
        object(v, depth);
        return;
    }
  }

  std::string take() {
    if (out_.size() > limit_) {
      out_.resize(limit_);
      out_ += "...";
    }
    return std::move(out_);
  }

 private:
  bool full() const { return out_.size() > limit_; }

  void sequence(const char* open, const PyValue::Items& items, const char* close, int depth) {
    out_ += open;
    for (std::size_t i = 0; i < items.size() && !full(); ++i) {
      if (i > 0) out_ += ", ";
      print(items[i], depth + 1);
    }
    out_ += close;
  }

  void pairs(const PyValue::DictItems& items, int depth, bool keyword) {
    for (std::size_t i = 0; i < items.size() && !full(); ++i) {
      if (i > 0) out_ += ", ";
      const auto& [key, value] = items[i];
      if (keyword && key.kind() == PyValue::Kind::String) {
        out_ += key.as_string() + "=";
      } else {
        print(key, depth + 1);
        out_ += ": ";
      }
      print(value, depth + 1);
    }
  }

  void dict(const PyValue& v, int depth) {
    if (v.is_ordered_dict()) out_ += "OrderedDict(";
    out_ += '{';
    pairs(v.dict_items(), depth, false);
    out_ += '}';
    if (v.is_ordered_dict()) out_ += ')';
  }

  void tensor(const HostTensor& t) {
    out_ += "tensor(";
    out_ += to_string(t.dtype());
    out_ += ", " + shape_string(t.shape()) + ")";
  }

  void device(const std::string& name) {
    auto colon = name.find(':');
    out_ += "device(type='" + name.substr(0, colon) + "'";
    if (colon != std::string::npos) out_ += ", index=" + name.substr(colon + 1);
    out_ += ')';
  }

  // module.Name(field=value, ...) for objects whose state is an attribute dict, like dataclasses.
  void object(const PyValue& v, int depth) {
    out_ += v.class_name() + "(";
    bool first = true;
    auto separate = [&] {
      if (!first) out_ += ", ";
      first = false;
    };
    for (const PyValue& arg : v.items()) {
      if (full()) break;
      separate();
      print(arg, depth + 1);
    }
    const PyValue& state = v.state();
    if (state.kind() == PyValue::Kind::Dict && !state.dict_items().empty()) {
      separate();
      pairs(state.dict_items(), depth, true);
    } else if (!state.is_none()) {
      separate();
      out_ += "state=";
      print(state, depth + 1);
    }
    if (!v.dict_items().empty()) {
      separate();
      out_ += '{';
      pairs(v.dict_items(), depth, false);
      out_ += '}';
    }
    out_ += ')';
  }

  std::size_t limit_;
  std::string out_;
};

}  // namespace

std::string PyValue::repr(std::size_t max_chars) const {
  Printer printer(max_chars);
  printer.print(*this);
  return printer.take();
}

}  // namespace othrun
