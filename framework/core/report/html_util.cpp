#include "report/html_util.hpp"

namespace othrun::report::html {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_safe_json(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

// Labels and figure names are [A-Za-z0-9_.-], so anchors need no escaping.
std::string figure_anchor(const std::string& label, const std::string& name) {
  return "fig-" + label + "/" + name;
}

std::string step_anchor(const std::string& label) { return "step-" + label; }

}  // namespace othrun::report::html
