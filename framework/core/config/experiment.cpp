#include "config/experiment.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>

#include <othrun/contract.hpp>
#include <othrun/hooks.hpp>
#include <othrun/store.hpp>

#include "config/stored_contract.hpp"
#include "config/suggest.hpp"
#include "config/yaml_values.hpp"

namespace fs = std::filesystem;

namespace othrun {

ValidationError::ValidationError(std::vector<std::string> messages)
    : Error(messages.empty() ? "invalid experiment" : messages.front()),
      messages_(std::move(messages)) {}

namespace {

const std::vector<std::string> kTopLevelKeys = {"name", "store", "seed", "steps"};

// A value given on the command line with --set.
struct Override {
  std::string text;   // as typed, for messages
  std::string label;  // empty for a top-level key
  std::string key;
  YAML::Node value;
  bool used = false;
};

// A parameter value with the place it came from.
struct SourcedNode {
  YAML::Node node;
  std::string where;  // "file:line" or "--set a.b=c"
};

class Validator {
 public:
  Validator(fs::path file, const std::vector<std::string>& overrides, PluginRegistry& plugins,
            fetch::ResolveMode mode)
      : file_(std::move(file)), plugins_(plugins), resolver_(mode) {
    base_dir_ = fs::absolute(file_).parent_path();
    for (const auto& text : overrides) parse_override(text);
  }

  Experiment run() {
    if (auto root = load()) {
      try {
        read_experiment(*root);
      } catch (const YAML::Exception& error) {  // a node shape no check above expected
        add(file_.string() + ":" + std::to_string(error.mark.is_null() ? 1 : error.mark.line + 1),
            "cannot read: " + error.msg);
      }
    }
    for (const auto& override : overrides_) {
      if (!override.used && !override.label.empty()) {
        add("--set " + override.text,
            "no step is labelled '" + override.label + "' (labels: " + join_list(labels_) + ")");
      }
    }
    if (!errors_.empty()) throw ValidationError(errors_);
    experiment_.to_fetch = resolver_.pending();
    return std::move(experiment_);
  }

 private:
  std::string where(const YAML::Node& node) const {
    return file_.string() + ":" + std::to_string(node.Mark().line + 1);
  }
  void add(const std::string& where, const std::string& message) {
    errors_.push_back(where + ": " + message);
  }

  void parse_override(const std::string& text) {
    const size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0) {
      add("--set " + text, "expected KEY=VALUE or LABEL.KEY=VALUE");
      return;
    }
    Override override;
    override.text = text;
    const std::string key = text.substr(0, equals);
    const size_t dot = key.find('.');
    if (dot != std::string::npos) {
      override.label = key.substr(0, dot);
      override.key = key.substr(dot + 1);
      if (override.label.empty() || override.key.empty()) {
        add("--set " + text, "expected KEY=VALUE or LABEL.KEY=VALUE");
        return;
      }
    } else {
      override.key = key;
    }
    for (const auto& earlier : overrides_) {
      if (earlier.label == override.label && earlier.key == override.key) {
        add("--set " + text, "'" + key + "' is already set by --set " + earlier.text);
        return;
      }
    }
    try {
      override.value = YAML::Load(text.substr(equals + 1));
    } catch (const YAML::Exception& error) {
      add("--set " + text, "the value is not valid YAML: " + error.msg);
      return;
    }
    overrides_.push_back(std::move(override));
  }

  std::optional<YAML::Node> load() {
    experiment_.file = file_;
    if (!fs::is_regular_file(file_)) {
      add(file_.string(), "no such experiment file");
      return std::nullopt;
    }
    YAML::Node root;
    try {
      root = load_single_document();
    } catch (const YAML::ParserException& error) {
      add(file_.string() + ":" + std::to_string(error.mark.line + 1),
          "YAML syntax error: " + error.msg);
      return std::nullopt;
    } catch (const YAML::Exception& error) {
      add(file_.string(), "cannot read: " + error.msg);
      return std::nullopt;
    }
    if (!root.IsMap()) {
      add(file_.string() + ":1",
          "an experiment is a mapping with keys " + join_list(kTopLevelKeys));
      return std::nullopt;
    }
    for (const auto& problem : yaml_key_problems(root)) {
      add(file_.string() + ":" + std::to_string(problem.line), problem.message);
    }
    return root;
  }

  // The file's one YAML document (YAML::LoadFile would silently ignore any after the first).
  YAML::Node load_single_document() {
    std::vector<YAML::Node> documents = YAML::LoadAllFromFile(file_.string());
    if (documents.empty()) return YAML::Node();
    if (documents.size() > 1) {
      const YAML::Mark mark = documents[1].Mark();
      add(file_.string() + ":" + std::to_string(mark.is_null() ? 1 : mark.line + 1),
          "a second YAML document: an experiment file holds exactly one (remove the '---' "
          "separator and what follows it, or merge it into the first)");
    }
    return documents.front();
  }

  // The top-level value of `key`, from the file or a --set override.
  std::optional<SourcedNode> top_level(const YAML::Node& root, const std::string& key) {
    for (auto& override : overrides_) {
      if (override.label.empty() && override.key == key) {
        override.used = true;
        return SourcedNode{override.value, "--set " + override.text};
      }
    }
    if (root[key]) return SourcedNode{root[key], where(root[key])};
    return std::nullopt;
  }

  void read_experiment(const YAML::Node& root) {
    for (const auto& entry : root) {
      if (!entry.first.IsScalar()) continue;  // reported by yaml_key_problems
      const std::string key = key_text(entry.first);
      if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) == kTopLevelKeys.end()) {
        add(where(entry.first), unknown_key_message(key, kTopLevelKeys, "top-level key"));
      }
    }
    for (const auto& override : overrides_) {
      if (!override.label.empty()) continue;
      if (override.key == "steps") {
        add("--set " + override.text,
            "'steps' cannot be set with --set: only name, store and seed can (a step's parameter "
            "is LABEL.KEY=VALUE)");
      } else if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), override.key) ==
                 kTopLevelKeys.end()) {
        add("--set " + override.text,
            unknown_key_message(override.key, kTopLevelKeys, "top-level key"));
      }
    }
    read_header(root);
    const YAML::Node steps = root["steps"];
    if (!steps) {
      add(file_.string() + ":1", "missing required key 'steps' (the list of steps to run)");
    } else if (!steps.IsSequence() || steps.size() == 0) {
      add(where(steps), "'steps' must be a non-empty list of steps");
    } else {
      for (const auto& step : steps) {
        if (!step.IsMap() || !step["plugin"] || !step["plugin"].IsScalar()) continue;
        all_labels_.insert(step["label"] && step["label"].IsScalar() ? step["label"].Scalar()
                                                                     : step["plugin"].Scalar());
      }
      int index = 0;
      for (const auto& step : steps) read_step(step, ++index);
    }
  }

  void read_header(const YAML::Node& root) {
    ParamSpec name_spec;
    name_spec.name = "name";
    ParamSpec store_spec;
    store_spec.name = "store";
    store_spec.type = ParamType::Path;
    ParamSpec seed_spec;
    seed_spec.name = "seed";
    seed_spec.type = ParamType::Int;
    seed_spec.min = 0;
    if (auto name = top_level(root, "name")) {
      if (auto value = convert(*name, name_spec, "")) {
        experiment_.name = std::get<std::string>(*value);
        if (experiment_.name.find_first_not_of(" \t") == std::string::npos) {
          add(name->where, "'name' must not be empty (it titles the store and its report)");
        }
      }
    } else {
      add(file_.string() + ":1", "missing required key 'name' (the experiment's name)");
    }
    if (auto store = top_level(root, "store")) {
      if (auto value = convert(*store, store_spec, "")) {
        experiment_.store = std::get<std::string>(*value);
        if (fetch::is_reference(experiment_.store.string())) {
          add(store->where, "'store' is written here; it cannot be a reference (" +
                                experiment_.store.string() + ")");
          return;
        }
        // An existing file that is not a store is refused, never overwritten (docs/store.md).
        if (auto problem = Store::problem_with_path(experiment_.store)) add(store->where, *problem);
      }
    } else {
      add(file_.string() + ":1", "missing required key 'store' (the HDF5 store to write)");
    }
    if (auto seed = top_level(root, "seed")) {
      if (auto value = convert(*seed, seed_spec, "")) {
        experiment_.seed = static_cast<std::uint64_t>(std::get<std::int64_t>(*value));
      }
    }
  }

  std::optional<Value> convert(const SourcedNode& source, const ParamSpec& spec,
                               const std::string& context) {
    try {
      return convert_value(source.node, spec, base_dir_);
    } catch (const ValueError& error) {
      add(source.where, context + error.what());
      return std::nullopt;
    }
  }

  static std::string unknown_key_message(const std::string& key,
                                         const std::vector<std::string>& valid, const char* what) {
    std::string message = std::string("unknown ") + what + " '" + key + "'";
    const auto close = nearest(key, valid, 1);
    if (!close.empty()) message += "; did you mean '" + close[0] + "'?";
    return message + " (valid: " + join_list(valid) + ")";
  }

  void read_step(const YAML::Node& node, int index) {
    const std::string at = where(node);
    if (!node.IsMap()) {
      add(at,
          "step #" + std::to_string(index) + " must be a mapping with 'plugin' and its parameters");
      return;
    }
    if (!node["plugin"] || !node["plugin"].IsScalar()) {
      add(at, "step #" + std::to_string(index) + " has no 'plugin' key (which plugin to run)");
      return;
    }
    PlannedStep step;
    step.line = node.Mark().line + 1;
    const std::string plugin_name = node["plugin"].Scalar();
    if (!is_plugin_name(plugin_name)) {
      add(where(node["plugin"]),
          "step #" + std::to_string(index) + ": " + not_a_plugin_name(plugin_name));
      return;
    }
    step.label = plugin_name;
    if (node["label"]) {
      if (!node["label"].IsScalar() || !is_valid_label(node["label"].Scalar())) {
        add(where(node["label"]), "step #" + std::to_string(index) +
                                      ": 'label' must be letters, digits, '_', '-' or '.'");
        return;
      }
      step.label = node["label"].Scalar();
    }
    const std::string context = "step '" + step.label + "' (" + plugin_name + "): ";
    if (auto first = label_lines_.find(step.label); first != label_lines_.end()) {
      add(at, context + "duplicate label '" + step.label + "' (first used on line " +
                  std::to_string(first->second) + "); give one of them a distinct 'label'");
      return;
    }
    label_lines_[step.label] = step.line;
    labels_.push_back(step.label);
    try {
      step.plugin = &plugins_.get(plugin_name);
    } catch (const PluginError& error) {
      add(at, context + error.what());
      return;
    }
    const size_t errors_before = errors_.size();
    step.config = read_parameters(node, step, context);
    // validate() runs even when some keys are wrong, so one round reports every problem.
    check_plugin(step, node, context);
    // The declared datasets and position ranges need a config whose every key was read.
    if (errors_.size() == errors_before) declare_datasets(step, node, context);
    if (errors_.size() == errors_before) check_position_ranges(step, node, context);
    check_paths(step, context);
    kinds_[step.label] = step.plugin->schema.kinds();
    experiment_.steps.push_back(std::move(step));
  }

  Config read_parameters(const YAML::Node& node, PlannedStep& step, const std::string& context) {
    const Schema& schema = step.plugin->schema;
    key_lines_.clear();
    bad_keys_.clear();
    std::vector<std::string> valid_keys = {"plugin", "label"};
    for (const auto& spec : schema.params()) valid_keys.push_back(spec.name);

    std::map<std::string, SourcedNode> given;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) continue;  // reported by yaml_key_problems
      const std::string key = key_text(entry.first);
      if (key == "plugin" || key == "label") continue;
      if (const RetiredParam* retired = schema.find_retired(key)) {
        add(where(entry.first), context + retired_message(*retired));
        continue;
      }
      if (!schema.find(key)) {
        add(where(entry.first), context + unknown_key_message(key, valid_keys, "key"));
        continue;
      }
      given[key] = SourcedNode{entry.second, where(entry.first)};
    }
    for (auto& override : overrides_) {
      if (override.label != step.label) continue;
      override.used = true;
      if (override.key == "plugin" || override.key == "label") {
        add("--set " + override.text,
            context + "'" + override.key +
                "' cannot be set with --set: a step's plugin and label are fixed by the "
                "experiment file (--set LABEL.KEY=VALUE sets one of its parameters)");
        continue;
      }
      if (const RetiredParam* retired = schema.find_retired(override.key)) {
        add("--set " + override.text, context + retired_message(*retired));
        continue;
      }
      if (!schema.find(override.key)) {
        add("--set " + override.text,
            context + unknown_key_message(override.key, valid_keys, "key"));
        continue;
      }
      given[override.key] = SourcedNode{override.value, "--set " + override.text};
    }

    std::map<std::string, Value> values;
    for (const auto& spec : schema.params()) {
      auto it = given.find(spec.name);
      if (it == given.end()) {
        if (spec.default_value) {
          values[spec.name] = default_for(spec);
        } else if (spec.required()) {
          add(where(node), context + "missing required key '" + spec.name + "' (" + spec.doc + ")");
          bad_keys_.insert(spec.name);
        }
        continue;
      }
      key_lines_[spec.name] = it->second.where;
      auto value = convert_param(it->second, spec, context);
      if (!value) {
        bad_keys_.insert(spec.name);
        continue;
      }
      if (spec.type == ParamType::Path) {
        if (!resolve_reference(spec, *value, it->second.where, context, step)) {
          bad_keys_.insert(spec.name);
          continue;
        }
      }
      if (spec.type == ParamType::Input) {
        const size_t before = errors_.size();
        check_input(spec, std::get<std::string>(*value), it->second.where, context);
        if (errors_.size() != before) bad_keys_.insert(spec.name);  // validate() adds nothing more
      }
      values[spec.name] = std::move(*value);
    }
    for (const auto& spec : schema.params()) {
      if (spec.type == ParamType::Input && !given.count(spec.name) && spec.default_value) {
        check_input(spec, std::get<std::string>(*spec.default_value), where(node), context);
      }
    }
    return Config(step.label, step.plugin->info->name, std::move(values));
  }

  // A path given as a reference (hf://, https://) becomes the local file it resolves to; at
  // --check a file not cached stays a reference and is listed as to be fetched. False after an
  // error (bad settings, offline and not cached, or the fetch failed).
  bool resolve_reference(const ParamSpec& spec, Value& value, const std::string& at,
                         const std::string& context, PlannedStep& step) {
    const std::string& text = std::get<std::string>(value);
    if (!fetch::is_reference(text)) return true;
    if (!spec.must_exist) {
      add(at, context + "'" + spec.name + "' names a file the step writes; it cannot be a " +
                  "reference (" + text + ")");
      return false;
    }
    try {
      if (auto fetched = resolver_.resolve(text)) {
        value = fetched->path.string();
        step.fetched.push_back(std::move(*fetched));
      }
      return true;
    } catch (const fetch::FetchError& error) {
      add(at, context + "'" + spec.name + "': " + error.what());
      return false;
    }
  }

  // A path a step reads must exist, unless an earlier step writes it (any path parameter of an
  // earlier step that is not itself a read) or it lies in the store's product folder. Checked
  // after validate(), which a missing file must not hide.
  void check_paths(const PlannedStep& step, const std::string& context) {
    for (const auto& spec : step.plugin->schema.params()) {
      if (spec.type != ParamType::Path || !step.config.has(spec.name)) continue;
      const std::string path = step.config.get_string(spec.name);
      if (spec.must_exist) {
        auto line = key_lines_.find(spec.name);
        if (line != key_lines_.end()) check_path(spec, path, line->second, context);
      } else {
        written_paths_.insert(path);
      }
    }
  }

  void check_path(const ParamSpec& spec, const std::string& path, const std::string& at,
                  const std::string& context) {
    if (path.empty() || written_paths_.count(path) || fetch::is_reference(path)) return;
    std::error_code ec;
    if (fs::exists(path, ec)) return;
    // Products and side files of a step live in the store's product folder (runs/x.d/ for
    // runs/x.h5), e.g. a train_sae output left at its default.
    const std::string products = fs::path(experiment_.store).replace_extension(".d").string() + "/";
    if (!experiment_.store.empty() && path.rfind(products, 0) == 0) return;
    add(at, context + "'" + spec.name + "': " + path + " does not exist");
  }

  Value default_for(const ParamSpec& spec) const {
    if (spec.type == ParamType::Hook || spec.type == ParamType::HookList ||
        spec.type == ParamType::Positions) {
      try {
        return canonical_value(spec, *spec.default_value);
      } catch (const Error& error) {
        throw Error("plugin bug: the default of '" + spec.name + "' is invalid: " + error.what());
      }
    }
    if (spec.type == ParamType::Path) {
      fs::path path = std::get<std::string>(*spec.default_value);
      if (path.empty()) return std::string();  // "" means "none", not the experiment's folder
      if (path.is_relative()) path = base_dir_ / path;
      return path.lexically_normal().string();
    }
    return *spec.default_value;
  }

  // An input must name an earlier step, or a product already in the store, of the right kind;
  // and the dataset it names after ':' must be one that product declares (or holds).
  void check_input(const ParamSpec& spec, const std::string& value, const std::string& at,
                   const std::string& context) {
    const InputRef ref = parse_input_ref(value);
    const std::string& label = ref.label;
    std::vector<std::string> kinds;
    if (auto it = kinds_.find(label); it != kinds_.end()) {
      kinds = it->second;
    } else if (auto stored = Store::stored_kinds(experiment_.store, label)) {
      kinds = *stored;
    } else {
      std::string message = "'" + spec.name + "' names '" + label + "', which no earlier step";
      message += all_labels_.count(label) ? " provides (that step runs later)"
                                          : " provides and the store does not hold";
      std::vector<std::string> candidates;
      for (const auto& [earlier, earlier_kinds] : kinds_) {
        if (std::find(earlier_kinds.begin(), earlier_kinds.end(), spec.input_kind) !=
            earlier_kinds.end()) {
          candidates.push_back(earlier);
        }
      }
      message +=
          " (earlier steps providing '" + spec.input_kind + "': " + join_list(candidates) + ")";
      add(at, context + message);
      return;
    }
    if (std::find(kinds.begin(), kinds.end(), spec.input_kind) == kinds.end()) {
      add(at, context + "'" + spec.name + "' names '" + label + "', which provides " +
                  join_list(kinds) + ", not '" + spec.input_kind + "'");
      return;
    }
    check_input_dataset(spec, ref, at, context);
  }

  // --- Product contracts (docs/plugins.md, "Reading an input product") ---

  static std::string retired_message(const RetiredParam& retired) {
    return "'" + retired.name + "' is no longer a parameter: " + retired.replacement;
  }

  // Reads Hook, HookList, Positions and Input values as text, then checks and canonicalises them
  // (full hook names, "first:stop" ranges, "label:full.hook.name"); other types as they are.
  std::optional<Value> convert_param(const SourcedNode& source, const ParamSpec& spec,
                                     const std::string& context) {
    ParamSpec text = spec;
    switch (spec.type) {
      case ParamType::Hook:
      case ParamType::Positions:
        text.type = ParamType::String;
        break;
      case ParamType::HookList:
        text.type = ParamType::StringList;
        break;
      case ParamType::Input:
        break;
      default:
        return convert(source, spec, context);
    }
    if (spec.type == ParamType::Positions && source.node.IsSequence()) {
      add(source.where, context + "'" + spec.name + "': " + positions_list_message(source.node));
      return std::nullopt;
    }
    auto value = convert(source, text, context);
    if (!value) return std::nullopt;
    try {
      return canonical_value(spec, std::move(*value));
    } catch (const Error& error) {
      add(source.where, context + "'" + spec.name + "': " + error.what());
      return std::nullopt;
    }
  }

  static std::string positions_list_message(const YAML::Node& list) {
    std::string example = "\"5:54\"";
    if (list.size() == 2 && list[0].IsScalar() && list[1].IsScalar()) {
      example = "\"" + list[0].Scalar() + ":" + list[1].Scalar() + "\" if " + list[1].Scalar() +
                " is excluded";
    }
    return "position ranges are written as one Python slice \"first:stop\", stop excluded, or "
           "\"all\"; lists such as [first, stop] or [first, last] are no longer accepted "
           "(write " +
           example + ")";
  }

  static Value canonical_value(const ParamSpec& spec, Value value) {
    switch (spec.type) {
      case ParamType::Hook:
        return canonical_hook(std::get<std::string>(value));
      case ParamType::HookList: {
        auto hooks = std::get<std::vector<std::string>>(value);
        for (auto& hook : hooks) hook = canonical_hook(hook);
        return hooks;
      }
      case ParamType::Positions:
        return parse_position_range(std::get<std::string>(value)).to_string();
      case ParamType::Input: {
        InputRef ref = parse_input_ref(std::get<std::string>(value));
        if (ref.label.empty()) throw Error("names no product before ':' (write LABEL:DATASET)");
        if (ref.dataset.empty()) return ref.to_string();
        if (spec.dataset_part == DatasetPart::None) {
          throw Error("names a whole product: write '" + ref.label + "' (without ':" + ref.dataset +
                      "')");
        }
        // Hooks get their full name; whether the dataset is a hook the product holds is
        // checked against the product (check_input_dataset).
        if (looks_like_hook(ref.dataset)) ref.dataset = canonical_hook(ref.dataset);
        return ref.to_string();
      }
      default:
        return value;
    }
  }

  // The datasets of product `label`: declared by an earlier step, or read from the stored file.
  // Null when unknown (the step had errors, or the product is neither planned nor stored).
  const DatasetDecls* provided_datasets(const std::string& label) {
    if (auto it = declared_.find(label); it != declared_.end()) return &it->second;
    if (kinds_.count(label)) return nullptr;  // an earlier step whose config has errors
    if (auto stored = stored_datasets(experiment_.store, label)) {
      return &declared_.emplace(label, std::move(*stored)).first->second;
    }
    return nullptr;
  }

  void check_input_dataset(const ParamSpec& spec, const InputRef& ref, const std::string& at,
                           const std::string& context) {
    const DatasetDecls* provided = provided_datasets(ref.label);
    if (!provided) return;
    std::vector<std::string> names;
    for (const auto& decl : *provided) {
      if (!spec.dataset_is_hook || decl.is_activation()) names.push_back(decl.name);
    }
    const std::string what = spec.dataset_is_hook ? "cached hooks" : "datasets";
    const std::string offer = "'" + ref.label + "' provides " + what + ": " + join_list(names);
    if (ref.dataset.empty()) {
      if (spec.dataset_part == DatasetPart::Required) {
        add(at, context + "'" + spec.name + "' names product '" + ref.label +
                    "' but not which of its " + what + ": write " + ref.label + ":NAME (" + offer +
                    ")");
      }
      return;
    }
    const DatasetDecl* decl = find_dataset(*provided, ref.dataset);
    if (!decl) {
      std::string message = "'" + spec.name + "' names '" + ref.to_string() + "', but '" +
                            ref.label + "' will hold no dataset '" + ref.dataset + "'";
      const auto close = nearest(ref.dataset, names, 1);
      if (!close.empty()) message += "; did you mean '" + close[0] + "'?";
      add(at, context + message + " (" + offer + ")");
    } else if (spec.dataset_is_hook && !decl->is_activation()) {
      add(at, context + "'" + spec.name + "' names '" + ref.to_string() +
                  "', which is no cached activation (" + offer + ")");
    }
  }

  // A range read from a cached hook must lie within the positions the hook holds.
  void check_position_ranges(const PlannedStep& step, const YAML::Node& node,
                             const std::string& context) {
    for (const auto& spec : step.plugin->schema.params()) {
      if (spec.type != ParamType::Positions || spec.positions_in.empty()) continue;
      if (!step.config.has(spec.name) || !step.config.has(spec.positions_in)) continue;
      const PositionRange wanted = step.config.get_positions(spec.name);
      const InputRef ref = parse_input_ref(step.config.get_string(spec.positions_in));
      const DatasetDecls* provided = provided_datasets(ref.label);
      const DatasetDecl* decl = provided ? find_dataset(*provided, ref.dataset) : nullptr;
      if (wanted.all() || !decl || !decl->positions || wanted.within(*decl->positions)) continue;
      auto line = key_lines_.find(spec.name);
      add(line != key_lines_.end() ? line->second : where(node),
          context + "'" + spec.name + "': positions " + wanted.to_string() + " are not all in '" +
              ref.to_string() + "', which holds positions " + decl->positions->to_string());
    }
  }

  // What the step's product will hold: its plugin's produces(config), else the schema's list.
  void declare_datasets(PlannedStep& step, const YAML::Node& node, const std::string& context) {
    try {
      step.datasets = step.plugin->info->produces ? step.plugin->info->produces(step.config)
                                                  : step.plugin->schema.datasets();
      declared_[step.label] = step.datasets;
    } catch (const ConfigError& error) {
      auto it = key_lines_.find(error.key());
      add(it != key_lines_.end() ? it->second : where(node),
          context + "'" + error.key() + "': " + error.what());
    } catch (const std::exception& error) {
      add(where(node), context + "cannot list the datasets it writes: " + error.what());
    }
  }

  void check_plugin(const PlannedStep& step, const YAML::Node& node, const std::string& context) {
    const Availability availability = step.plugin->info->probe();
    if (!availability.available) {
      add(where(node), context + "plugin '" + std::string(step.plugin->info->name) +
                           "' is unavailable: " + availability.reason);
    }
    if (!step.plugin->info->validate) return;
    // Keys already reported as wrong take their default for validate(), so that it can check
    // the rest; what it then says about those keys, or fails on for lack of a value, is not new.
    std::map<std::string, Value> values = step.config.values();
    bool every_value = true;
    for (const auto& key : bad_keys_) {
      const ParamSpec* spec = step.plugin->schema.find(key);
      if (spec && spec->default_value) {
        values[key] = default_for(*spec);
      } else {
        every_value = false;
      }
    }
    try {
      step.plugin->info->validate(Config(step.label, step.plugin->info->name, std::move(values)));
    } catch (const ConfigError& error) {
      if (bad_keys_.count(error.key())) return;
      auto it = key_lines_.find(error.key());
      add(it != key_lines_.end() ? it->second : where(node),
          context + "'" + error.key() + "': " + error.what());
    } catch (const std::exception& error) {
      if (every_value) add(where(node), context + error.what());
    }
  }

  fs::path file_;
  fs::path base_dir_;
  PluginRegistry& plugins_;
  fetch::Resolver resolver_;
  std::vector<Override> overrides_;
  std::vector<std::string> errors_;
  Experiment experiment_;
  std::map<std::string, int> label_lines_;
  std::vector<std::string> labels_;
  std::set<std::string> all_labels_;  // of every step in the file, for "that step runs later"
  std::map<std::string, std::vector<std::string>> kinds_;
  std::map<std::string, DatasetDecls> declared_;  // by earlier steps, and stored products read
  std::map<std::string, std::string> key_lines_;
  std::set<std::string> bad_keys_;       // of the step being read: missing or not convertible
  std::set<std::string> written_paths_;  // path values of earlier steps (maybe their outputs)
};

}  // namespace

Experiment load_experiment(const fs::path& file, const std::vector<std::string>& overrides,
                           PluginRegistry& plugins, fetch::ResolveMode mode) {
  return Validator(file, overrides, plugins, mode).run();
}

}  // namespace othrun
