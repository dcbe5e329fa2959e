#include "config/yaml_values.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "config/suggest.hpp"
#include "fetch/reference.hpp"

namespace othrun {
namespace {

std::string describe_node(const YAML::Node& node) {
  if (node.IsNull()) return "nothing";
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "an unknown node";
}

std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_float(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == ".inf" || text == "inf") return HUGE_VAL;
  if (text == "-.inf" || text == "-inf") return -HUGE_VAL;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "True" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "False" || text == "no" || text == "off") return false;
  return std::nullopt;
}

std::string format_number(double value) { return format_value(Value(value)); }

void check_range(const ParamSpec& spec, double value, const std::string& shown) {
  const bool low = spec.min && value < *spec.min;
  const bool high = spec.max && value > *spec.max;
  if (!low && !high) return;
  std::string range;
  if (spec.min && spec.max) {
    range = "must be in [" + format_number(*spec.min) + ", " + format_number(*spec.max) + "]";
  } else if (spec.min) {
    range = "must be >= " + format_number(*spec.min);
  } else {
    range = "must be <= " + format_number(*spec.max);
  }
  throw ValueError("'" + spec.name + "' = " + shown + " is out of range: it " + range);
}

void check_allowed(const ParamSpec& spec, const std::string& value) {
  if (spec.allowed.empty()) return;
  for (const auto& allowed : spec.allowed) {
    if (allowed == value) return;
  }
  std::string message =
      "'" + spec.name + "' = '" + value + "' is not one of: " + join_list(spec.allowed);
  auto close = nearest(value, spec.allowed, 1);
  if (!close.empty()) message += " (did you mean '" + close[0] + "'?)";
  throw ValueError(message);
}

const std::string& scalar(const YAML::Node& node, const ParamSpec& spec, const char* expected) {
  if (!node.IsScalar()) {
    throw ValueError("'" + spec.name + "' must be " + expected + ", got " + describe_node(node));
  }
  return node.Scalar();
}

std::int64_t to_int(const YAML::Node& node, const ParamSpec& spec) {
  const std::string& text = scalar(node, spec, "an integer");
  auto value = parse_int(text);
  if (!value) throw ValueError("'" + spec.name + "' must be an integer, got '" + text + "'");
  check_range(spec, static_cast<double>(*value), text);
  return *value;
}

double to_float(const YAML::Node& node, const ParamSpec& spec) {
  const std::string& text = scalar(node, spec, "a number");
  auto value = parse_float(text);
  if (!value || std::isnan(*value)) {
    throw ValueError("'" + spec.name + "' must be a number, got '" + text + "'");
  }
  check_range(spec, *value, text);
  return *value;
}

std::string to_text(const YAML::Node& node, const ParamSpec& spec) {
  const std::string& text = scalar(node, spec, "a string");
  check_allowed(spec, text);
  return text;
}

template <class T, class Convert>
std::vector<T> to_list(const YAML::Node& node, const ParamSpec& spec, Convert convert) {
  if (!node.IsSequence()) {
    throw ValueError("'" + spec.name + "' must be a " + to_string(spec.type) + ", got " +
                     describe_node(node));
  }
  std::vector<T> values;
  for (const auto& item : node) values.push_back(convert(item, spec));
  return values;
}

}  // namespace

Value convert_value(const YAML::Node& node, const ParamSpec& spec,
                    const std::filesystem::path& base_dir) {
  switch (spec.type) {
    case ParamType::Bool: {
      const std::string& text = scalar(node, spec, "true or false");
      auto value = parse_bool(text);
      if (!value) throw ValueError("'" + spec.name + "' must be true or false, got '" + text + "'");
      return *value;
    }
    case ParamType::Int:
      return to_int(node, spec);
    case ParamType::Float:
      return to_float(node, spec);
    case ParamType::String:
      return to_text(node, spec);
    case ParamType::Input: {
      const std::string& text = scalar(node, spec, "a step label");
      return text;
    }
    case ParamType::Path: {
      const std::string& text = scalar(node, spec, "a path");
      if (fetch::is_reference(text)) {  // fetched before the step sees it (docs/fetch.md)
        try {
          return fetch::parse_reference(text).to_string();
        } catch (const fetch::FetchError& error) {
          throw ValueError("'" + spec.name + "': " + error.what());
        }
      }
      std::filesystem::path path = text;
      if (path.empty()) throw ValueError("'" + spec.name + "' must be a path, got ''");
      if (path.is_relative()) path = base_dir / path;
      return path.lexically_normal().string();
    }
    case ParamType::IntList:
      return to_list<std::int64_t>(node, spec, to_int);
    case ParamType::FloatList:
      return to_list<double>(node, spec, to_float);
    case ParamType::StringList:
      return to_list<std::string>(node, spec, to_text);
  }
  throw ValueError("'" + spec.name + "' has an unknown type");
}

namespace {

// Walks the node tree. Aliases may repeat a subtree many times over ("billion laughs"): the walk
// stops after kMaxNodes nodes, far beyond any experiment file, so it always ends quickly.
class KeyChecker {
 public:
  std::vector<YamlProblem> problems;

  void walk(const YAML::Node& node, int depth) {
    if (++visited_ > kMaxNodes || depth > kMaxDepth) return;
    if (node.IsSequence()) {
      for (const auto& item : node) walk(item, depth + 1);
    } else if (node.IsMap()) {
      std::map<std::string, int> first_line;
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        const int line = key.Mark().line + 1;
        if (!key.IsScalar()) {
          problems.push_back({line, "a key must be a plain name, got " + describe_node(key)});
        } else if (auto [it, fresh] = first_line.emplace(key.Scalar(), line); !fresh) {
          problems.push_back({line, "duplicate key '" + key.Scalar() + "' (first given on line " +
                                        std::to_string(it->second) + ")"});
        }
        walk(entry.second, depth + 1);
      }
    }
  }

 private:
  static constexpr long kMaxNodes = 1'000'000;
  static constexpr int kMaxDepth = 200;
  long visited_ = 0;
};

}  // namespace

std::vector<YamlProblem> yaml_key_problems(const YAML::Node& root) {
  KeyChecker checker;
  checker.walk(root, 0);
  return std::move(checker.problems);
}

std::string key_text(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : ""; }

}  // namespace othrun
