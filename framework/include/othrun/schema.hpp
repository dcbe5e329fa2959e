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

#include <othrun/contract.hpp>

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
  Input,       // "LABEL" or "LABEL:DATASET": an earlier step's (or stored) product, of kind
               // `input_kind`, and one of the datasets it declares (see contract.hpp)
  Hook,        // a TransformerLens hook name or its shorthand (post.0); stored as the full name
  HookList,    // a list of hooks, each as Hook
  Positions,   // a range of model positions: "all" or "first:stop" (see PositionRange)
};

// Whether an Input parameter names a dataset of the product after ':'.
enum class DatasetPart {
  None,      // "LABEL" only
  Optional,  // "LABEL" or "LABEL:DATASET"
  Required,  // "LABEL:DATASET"
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
  DatasetPart dataset_part = DatasetPart::None;  // for Input: is a dataset named after ':'?
  std::string positions_in;      // for Positions: the Input whose cached hook must hold the range
  bool dataset_is_hook = false;  // for Input: the dataset must be a cached activation (a hook)
  bool must_exist = false;       // for Path: a file or folder the step reads (see existing())

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
  // An input naming a cached hook of an activations product: `activations: cache:resid_pre.6`.
  ParamSpec& hook_dataset(DatasetPart part = DatasetPart::Required) {
    dataset_part = part;
    dataset_is_hook = true;
    return *this;
  }
  // An input that may (or must) name any declared dataset of the product after ':'.
  ParamSpec& any_dataset(DatasetPart part) {
    dataset_part = part;
    return *this;
  }
  // A position range that must lie within the positions the hook named by input `input` holds
  // (checked at --check; "all" always passes: it means every cached position).
  ParamSpec& within(std::string input) {
    positions_in = std::move(input);
    return *this;
  }
  bool required() const { return !default_value && !optional; }
};

// A parameter a plugin no longer takes, with what replaces it (e.g. `hook` ->
// `activations: LABEL:HOOK`): validation reports its use with this message instead of "unknown".
struct RetiredParam {
  std::string name;
  std::string replacement;
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
  // An input product: the label of a step that provides `kind` (see ParamSpec::hook_dataset).
  ParamSpec& input(std::string name, std::string kind, std::optional<std::string> default_label,
                   std::string doc);
  // A hook name (full or shorthand), and a list of them.
  ParamSpec& hook(std::string name, std::optional<std::string> default_value, std::string doc);
  ParamSpec& hooks(std::string name, std::optional<std::vector<std::string>> default_value,
                   std::string doc);
  // A position range, "all" or "first:stop".
  ParamSpec& positions(std::string name, std::optional<std::string> default_value, std::string doc);
  // A parameter that is gone; its use is an error saying `replacement`.
  Schema& retired(std::string name, std::string replacement);

  // Declares that this plugin's product is of `kind` (e.g. "games", "activations").
  Schema& provides(std::string kind);
  // Declares a dataset the product holds. A plugin whose datasets depend on its config declares
  // them in `static DatasetDecls produces(const Config&)` instead; the ones declared here are then
  // what `othrun --describe` shows (names may be patterns such as "HOOK").
  Schema& dataset(std::string name, DType dtype, std::string axes, std::string doc);
  Schema& dataset(DatasetDecl decl);
  // Declares that steps of this plugin run on every MPI rank, each on its share of the games
  // (othrun/ranks.hpp). Without it a step runs on rank 0 only while the other ranks wait.
  Schema& data_parallel() {
    data_parallel_ = true;
    return *this;
  }

  const std::string& summary() const { return summary_; }
  const std::vector<ParamSpec>& params() const { return params_; }
  const std::vector<std::string>& kinds() const { return kinds_; }
  const DatasetDecls& datasets() const { return datasets_; }
  const std::vector<RetiredParam>& retired_params() const { return retired_; }
  bool is_data_parallel() const { return data_parallel_; }
  const ParamSpec* find(const std::string& name) const;
  const RetiredParam* find_retired(const std::string& name) const;

 private:
  ParamSpec& add(ParamSpec spec);

  std::string summary_;
  std::vector<ParamSpec> params_;
  std::vector<std::string> kinds_;
  DatasetDecls datasets_;
  std::vector<RetiredParam> retired_;
  bool data_parallel_ = false;
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
  PositionRange get_positions(const std::string& key) const;  // a Positions parameter
  // An Input parameter's product label, and the dataset it names after ':' ("" if none).
  std::string input_label(const std::string& key) const;
  std::string input_dataset(const std::string& key) const;

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
