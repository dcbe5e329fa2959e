#include <othrun/error.hpp>
#include <othrun/schema.hpp>

#include <fmt/format.h>

#include <sstream>

namespace othrun {
namespace {

template <class T>
const T& get_as(const Config& config, const std::string& key, const char* type) {
  const Value& value = config.value(key);
  if (const T* typed = std::get_if<T>(&value)) return *typed;
  throw Error("step '" + config.label() + "': parameter '" + key + "' is not of type " + type);
}

std::string quote_if_needed(const std::string& text) {
  const bool plain = !text.empty() &&
                     text.find_first_of(":#{}[],&*!|>'\"%@`\n") == std::string::npos &&
                     text.front() != ' ' && text.back() != ' ' && text.front() != '-';
  if (plain) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    quoted += c;
  }
  return quoted + "\"";
}

std::string format_double(double value) {
  std::string text = fmt::format("{}", value);
  return text;
}

// Formats each alternative of a Value as YAML flow text.
struct Formatter {
  std::string operator()(bool v) const { return v ? "true" : "false"; }
  std::string operator()(std::int64_t v) const { return std::to_string(v); }
  std::string operator()(double v) const { return format_double(v); }
  std::string operator()(const std::string& v) const { return quote_if_needed(v); }
  template <class T>
  std::string operator()(const std::vector<T>& values) const {
    std::string text = "[";
    for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + (*this)(values[i]);
    return text + "]";
  }
};

}  // namespace

const Value& Config::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    throw Error("step '" + label_ + "' (" + plugin_ + "): parameter '" + key + "' has no value");
  }
  return it->second;
}

bool Config::get_bool(const std::string& key) const { return get_as<bool>(*this, key, "bool"); }

std::int64_t Config::get_int(const std::string& key) const {
  return get_as<std::int64_t>(*this, key, "int");
}

double Config::get_float(const std::string& key) const {
  const Value& value = this->value(key);
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  return get_as<double>(*this, key, "float");
}

const std::string& Config::get_string(const std::string& key) const {
  return get_as<std::string>(*this, key, "string");
}

std::filesystem::path Config::get_path(const std::string& key) const {
  return std::filesystem::path(get_string(key));
}

const std::vector<std::int64_t>& Config::get_ints(const std::string& key) const {
  return get_as<std::vector<std::int64_t>>(*this, key, "list of int");
}

std::vector<double> Config::get_floats(const std::string& key) const {
  const Value& value = this->value(key);
  if (const auto* ints = std::get_if<std::vector<std::int64_t>>(&value)) {
    return {ints->begin(), ints->end()};
  }
  return get_as<std::vector<double>>(*this, key, "list of float");
}

const std::vector<std::string>& Config::get_strings(const std::string& key) const {
  return get_as<std::vector<std::string>>(*this, key, "list of string");
}

PositionRange Config::get_positions(const std::string& key) const {
  try {
    return parse_position_range(get_string(key));
  } catch (const Error& error) {
    throw ConfigError(key, error.what());
  }
}

std::string Config::input_label(const std::string& key) const {
  return parse_input_ref(get_string(key)).label;
}

std::string Config::input_dataset(const std::string& key) const {
  return parse_input_ref(get_string(key)).dataset;
}

std::string format_value(const Value& value) { return std::visit(Formatter{}, value); }

std::string Config::to_yaml() const {
  std::ostringstream out;
  for (const auto& [key, value] : values_) out << key << ": " << format_value(value) << "\n";
  return out.str();
}

}  // namespace othrun
