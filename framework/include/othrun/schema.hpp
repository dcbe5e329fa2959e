// A plugin's parameter schema and the validated, typed configuration a step receives.
//
// Every parameter is declared with its type, default (or "required"), range or allowed values and a
// one-line doc. The host validates the whole experiment against these schemas before anything runs;
// `othrun --describe NAME` prints them. There is no "accept anything" escape hatch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace othrun {

enum class ParamType {
  Bool,
  Int,
  Float,
  String,  // free text, or one of `allowed` when that list is not empty
  Path,    // a file or folder; relative paths resolve against the experiment file's folder
  IntList,
  FloatList,
  StringList,  // each entry one of `allowed` when that list is not empty
  Input,       // the label of an earlier step (or stored product) whose kind is `input_kind`
};

const char* to_string(ParamType type);

// A parameter value. Paths and inputs are strings; lists are vectors.
using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>,
                           std::vector<double>, std::vector<std::string>>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::String;
  std::string doc;
  std::optional<Value> default_value;  // empty: required, or optional when `optional` is set
  bool optional = false;               // may be absent, with no default (Config::has says)
  std::optional<double> min, max;      // inclusive range for Int/Float (and each list entry)
  std::vector<std::string> allowed;    // allowed values for String/StringList
  std::string input_kind;              // for Input: the product kind it must name
  bool must_exist = false;             // for Path: a file or folder the step reads (see existing())

  // Fluent setters, so a schema reads as one declaration per line.
  ParamSpec& range(std::optional<double> lo, std::optional<double> hi) {
    min = lo;
    max = hi;
    return *this;
  }
  ParamSpec& allow(std::vector<std::string> values) {
    allowed = std::move(values);
    return *this;
  }
  // A path the step reads: validation reports it missing before anything runs, unless an
  // earlier step of the experiment writes that path or it lies in the store's product folder.
  ParamSpec& existing() {
    must_exist = true;
    return *this;
  }
  bool required() const { return !default_value && !optional; }
};

// The parameters of a plugin and the product kinds its steps write.
class Schema {
 public:
  Schema() = default;
  explicit Schema(std::string summary) : summary_(std::move(summary)) {}

  ParamSpec& flag(std::string name, bool default_value, std::string doc);
  ParamSpec& integer(std::string name, std::optional<std::int64_t> default_value, std::string doc);
  ParamSpec& real(std::string name, std::optional<double> default_value, std::string doc);
  ParamSpec& text(std::string name, std::optional<std::string> default_value, std::string doc);
  ParamSpec& choice(std::string name, std::vector<std::string> allowed,
                    std::optional<std::string> default_value, std::string doc);
  ParamSpec& path(std::string name, std::optional<std::string> default_value, std::string doc);
  ParamSpec& integers(std::string name, std::optional<std::vector<std::int64_t>> default_value,
                      std::string doc);
  ParamSpec& reals(std::string name, std::optional<std::vector<double>> default_value,
                   std::string doc);
  ParamSpec& texts(std::string name, std::optional<std::vector<std::string>> default_value,
                   std::string doc);
  // An input product: the label of a step that provides `kind`.
  ParamSpec& input(std::string name, std::string kind, std::optional<std::string> default_label,
                   std::string doc);

  // Declares that this plugin's product is of `kind` (e.g. "games", "activations").
  Schema& provides(std::string kind);

  const std::string& summary() const { return summary_; }
  const std::vector<ParamSpec>& params() const { return params_; }
  const std::vector<std::string>& kinds() const { return kinds_; }
  const ParamSpec* find(const std::string& name) const;

 private:
  ParamSpec& add(ParamSpec spec);

  std::string summary_;
  std::vector<ParamSpec> params_;
  std::vector<std::string> kinds_;
};

// A step's validated configuration: every declared parameter with a value, typed as declared.
class Config {
 public:
  Config() = default;
  Config(std::string label, std::string plugin, std::map<std::string, Value> values)
      : label_(std::move(label)), plugin_(std::move(plugin)), values_(std::move(values)) {}

  const std::string& label() const { return label_; }
  const std::string& plugin() const { return plugin_; }

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const Value& value(const std::string& key) const;

  bool get_bool(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // Int values convert
  const std::string& get_string(const std::string& key) const;
  std::filesystem::path get_path(const std::string& key) const;  // already absolute
  const std::vector<std::int64_t>& get_ints(const std::string& key) const;
  std::vector<double> get_floats(const std::string& key) const;  // Int lists convert
  const std::vector<std::string>& get_strings(const std::string& key) const;

  const std::map<std::string, Value>& values() const { return values_; }
  // Canonical YAML of the values, keys sorted: stored as provenance and hashed for reruns.
  std::string to_yaml() const;

 private:
  std::string label_;
  std::string plugin_;
  std::map<std::string, Value> values_;
};

// Formats a value as YAML flow text ("3", "[1, 2]", "abc").
std::string format_value(const Value& value);

}  // namespace othrun
