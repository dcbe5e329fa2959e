#include "describe.hpp"

#include <fmt/format.h>

#include "config/suggest.hpp"

namespace othrun {
namespace {

std::string constraint(const ParamSpec& spec) {
  if (!spec.allowed.empty()) return "one of: " + join_list(spec.allowed);
  if (spec.type == ParamType::Input) {
    std::string text = "label of a step providing '" + spec.input_kind + "'";
    const std::string what = spec.dataset_is_hook ? ":HOOK (a cached hook)" : ":DATASET";
    if (spec.dataset_part == DatasetPart::Required) text += ", then " + what;
    if (spec.dataset_part == DatasetPart::Optional) text += ", optionally " + what;
    return text;
  }
  if (spec.type == ParamType::Hook || spec.type == ParamType::HookList) {
    return "blocks.L.hook_... or shorthand NAME.L (resid_pre.6, post.0)";
  }
  if (spec.type == ParamType::Positions) {
    std::string text = "all, or \"first:stop\" (stop excluded)";
    if (!spec.positions_in.empty())
      text += ", within the positions '" + spec.positions_in + "' holds";
    return text;
  }
  if (spec.must_exist) return "an existing file or folder (read by the step)";
  std::string low = spec.min ? format_value(Value(*spec.min)) : "";
  std::string high = spec.max ? format_value(Value(*spec.max)) : "";
  if (spec.min && spec.max) return "range [" + low + ", " + high + "]";
  if (spec.min) return ">= " + low;
  if (spec.max) return "<= " + high;
  return "";
}

// "available", "available (note)" or "unavailable: reason" (with the given words).
std::string availability_text(const Availability& a, const std::string& yes,
                              const std::string& no) {
  if (!a.available) return no + a.reason;
  return a.reason.empty() ? yes : yes + " (" + a.reason + ")";
}

std::string default_text(const ParamSpec& spec) {
  if (spec.default_value) return format_value(*spec.default_value);
  return spec.optional ? "(optional)" : "(required)";
}

}  // namespace

void print_description(const LoadedPlugin& plugin, std::ostream& out) {
  const Schema& schema = plugin.schema;
  out << fmt::format("{} {}  ({})\n", plugin.info->name, plugin.info->version,
                     plugin.path.string());
  if (!schema.summary().empty()) out << "  " << schema.summary() << "\n";
  out << "  provides: " << join_list(schema.kinds()) << "\n";
  const Availability availability = plugin.info->probe();
  out << "  available: " << availability_text(availability, "yes", "no: ") << "\n";
  out << "parameters:\n";
  for (const auto& spec : schema.params()) {
    out << fmt::format("  {:<20} {:<15} {:<14} {}\n", spec.name, to_string(spec.type),
                       default_text(spec), spec.doc);
    const std::string limits = constraint(spec);
    if (!limits.empty()) out << fmt::format("  {:<20} {}\n", "", limits);
  }
  for (const auto& retired : schema.retired_params()) {
    out << fmt::format("  {:<20} {:<15} {}\n", retired.name, "(retired)", retired.replacement);
  }
  out << "datasets"
      << (plugin.info->produces ? " (the exact list depends on the config):\n" : ":\n");
  if (schema.datasets().empty()) out << "  none (figures only)\n";
  for (const auto& decl : schema.datasets()) {
    out << fmt::format("  {:<26} {:<8} [{}]  {}\n", decl.name, to_string(decl.dtype), decl.axes,
                       decl.doc);
  }
}

void print_default_step(const LoadedPlugin& plugin, std::ostream& out) {
  out << "  - plugin: " << plugin.info->name << "\n";
  out << "    label: " << plugin.info->name << "\n";
  for (const auto& spec : plugin.schema.params()) {
    std::string comment = spec.doc + " (" + to_string(spec.type);
    const std::string limits = constraint(spec);
    if (!limits.empty()) comment += "; " + limits;
    comment += ")";
    out << "    # " << comment << "\n";
    if (spec.default_value) {
      out << "    " << spec.name << ": " << format_value(*spec.default_value) << "\n";
    } else {
      out << "    # " << spec.name << ":   " << (spec.optional ? "optional" : "REQUIRED") << "\n";
    }
  }
}

void print_plugin_list(const std::vector<ListedPlugin>& plugins, std::ostream& out) {
  if (plugins.empty()) {
    out << "no plugins found\n";
    return;
  }
  for (const auto& listed : plugins) {
    if (!listed.plugin) {
      out << fmt::format("{:<20} {:<9} {:<30} {}\n", listed.path.stem().string(), "-",
                         "error: " + listed.error, listed.path.string());
      continue;
    }
    const Availability availability = listed.plugin->info->probe();
    out << fmt::format(
        "{:<20} {:<9} {:<30} {}\n", listed.plugin->info->name, listed.plugin->info->version,
        availability_text(availability, "available", "unavailable: "), listed.path.string());
  }
}

}  // namespace othrun
