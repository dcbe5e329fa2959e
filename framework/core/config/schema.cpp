#include <othrun/error.hpp>
#include <othrun/schema.hpp>

namespace othrun {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::Bool:
      return "bool";
    case ParamType::Int:
      return "int";
    case ParamType::Float:
      return "float";
    case ParamType::String:
      return "string";
    case ParamType::Path:
      return "path";
    case ParamType::IntList:
      return "list of int";
    case ParamType::FloatList:
      return "list of float";
    case ParamType::StringList:
      return "list of string";
    case ParamType::Input:
      return "input";
    case ParamType::Hook:
      return "hook";
    case ParamType::HookList:
      return "list of hook";
    case ParamType::Positions:
      return "positions";
  }
  return "?";
}

ParamSpec& Schema::add(ParamSpec spec) {
  if (find(spec.name)) throw Error("schema declares parameter '" + spec.name + "' twice");
  if (spec.name == "plugin" || spec.name == "label") {
    throw Error("schema declares parameter '" + spec.name +
                "', a key every step already has; choose another name");
  }
  params_.push_back(std::move(spec));
  return params_.back();
}

const ParamSpec* Schema::find(const std::string& name) const {
  for (const auto& spec : params_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

static ParamSpec make_spec(std::string name, ParamType type, std::string doc,
                           std::optional<Value> default_value) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.doc = std::move(doc);
  spec.default_value = std::move(default_value);
  return spec;
}

template <class T>
static std::optional<Value> wrap(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  return Value(*value);
}

ParamSpec& Schema::flag(std::string name, bool default_value, std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::Bool, std::move(doc), Value(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::integer(std::string name, std::optional<std::int64_t> default_value,
                           std::string doc) {
  ParamSpec spec = make_spec(std::move(name), ParamType::Int, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::real(std::string name, std::optional<double> default_value, std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::Float, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::text(std::string name, std::optional<std::string> default_value,
                        std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::String, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::choice(std::string name, std::vector<std::string> allowed,
                          std::optional<std::string> default_value, std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::String, std::move(doc), wrap(default_value));
  spec.allowed = std::move(allowed);
  return add(std::move(spec));
}

ParamSpec& Schema::path(std::string name, std::optional<std::string> default_value,
                        std::string doc) {
  ParamSpec spec = make_spec(std::move(name), ParamType::Path, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::integers(std::string name,
                            std::optional<std::vector<std::int64_t>> default_value,
                            std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::IntList, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::reals(std::string name, std::optional<std::vector<double>> default_value,
                         std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::FloatList, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::texts(std::string name, std::optional<std::vector<std::string>> default_value,
                         std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::StringList, std::move(doc), wrap(default_value));
  return add(std::move(spec));
}

ParamSpec& Schema::input(std::string name, std::string kind,
                         std::optional<std::string> default_label, std::string doc) {
  ParamSpec spec =
      make_spec(std::move(name), ParamType::Input, std::move(doc), wrap(default_label));
  spec.input_kind = std::move(kind);
  return add(std::move(spec));
}

ParamSpec& Schema::hook(std::string name, std::optional<std::string> default_value,
                        std::string doc) {
  return add(make_spec(std::move(name), ParamType::Hook, std::move(doc), wrap(default_value)));
}

ParamSpec& Schema::hooks(std::string name, std::optional<std::vector<std::string>> default_value,
                         std::string doc) {
  return add(make_spec(std::move(name), ParamType::HookList, std::move(doc), wrap(default_value)));
}

ParamSpec& Schema::positions(std::string name, std::optional<std::string> default_value,
                             std::string doc) {
  return add(make_spec(std::move(name), ParamType::Positions, std::move(doc), wrap(default_value)));
}

Schema& Schema::retired(std::string name, std::string replacement) {
  if (find(name)) throw Error("schema declares parameter '" + name + "' both live and retired");
  retired_.push_back({std::move(name), std::move(replacement)});
  return *this;
}

const RetiredParam* Schema::find_retired(const std::string& name) const {
  for (const auto& r : retired_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

Schema& Schema::dataset(std::string name, DType dtype, std::string axes, std::string doc) {
  DatasetDecl decl;
  decl.name = std::move(name);
  decl.dtype = dtype;
  decl.axes = std::move(axes);
  decl.doc = std::move(doc);
  return dataset(std::move(decl));
}

Schema& Schema::dataset(DatasetDecl decl) {
  if (find_dataset(datasets_, decl.name)) {
    throw Error("schema declares dataset '" + decl.name + "' twice");
  }
  datasets_.push_back(std::move(decl));
  return *this;
}

Schema& Schema::provides(std::string kind) {
  kinds_.push_back(std::move(kind));
  return *this;
}

}  // namespace othrun
