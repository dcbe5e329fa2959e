// A small JSON writer for the dashboards' data files: numbers are written with the precision a
// page needs (5 significant digits unless told), so 4,096 units stay a few MB, and NaN/inf become
// null.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace othrun::dashboard {

class JsonText {
 public:
  std::string& str() { return out_; }

  JsonText& raw(std::string_view text) {
    out_ += text;
    return *this;
  }
  JsonText& key(std::string_view name) {
    comma();
    string_value(name);
    out_ += ':';
    fresh_ = true;
    return *this;
  }
  JsonText& begin_object() {
    comma();
    out_ += '{';
    fresh_ = true;
    return *this;
  }
  JsonText& end_object() {
    out_ += '}';
    fresh_ = false;
    return *this;
  }
  JsonText& begin_array() {
    comma();
    out_ += '[';
    fresh_ = true;
    return *this;
  }
  JsonText& end_array() {
    out_ += ']';
    fresh_ = false;
    return *this;
  }
  JsonText& value(double v, int digits = 5) {
    comma();
    if (std::isfinite(v)) {
      fmt::format_to(std::back_inserter(out_), "{:.{}g}", v, digits);
    } else {
      out_ += "null";
    }
    return *this;
  }
  JsonText& value(std::int64_t v) {
    comma();
    fmt::format_to(std::back_inserter(out_), "{}", v);
    return *this;
  }
  JsonText& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonText& value(std::uint64_t v) { return value(static_cast<std::int64_t>(v)); }
  JsonText& value(bool v) {
    comma();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonText& value(std::string_view s) {
    comma();
    string_value(s);
    return *this;
  }
  JsonText& value(const char* s) { return value(std::string_view(s)); }
  JsonText& null() {
    comma();
    out_ += "null";
    return *this;
  }
  template <class T>
  JsonText& array(std::span<const T> values) {
    begin_array();
    for (const T& v : values) value(v);
    return end_array();
  }

 private:
  void comma() {
    if (!fresh_) out_ += ',';
    fresh_ = false;
  }
  void string_value(std::string_view s) {
    out_ += '"';
    for (const char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '<':  // never "</script>" inside a data file
          out_ += "\\u003c";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            fmt::format_to(std::back_inserter(out_), "\\u{:04x}", static_cast<int>(c));
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool fresh_ = true;
};

}  // namespace othrun::dashboard
