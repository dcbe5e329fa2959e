// Text for `othrun --describe` and `othrun --list`.
#pragma once

#include <ostream>

#include "plugin/registry.hpp"

namespace othrun {

// Every parameter: type, default or "required", range or allowed values, one-line doc.
void print_description(const LoadedPlugin& plugin, std::ostream& out);
// A step block with every parameter at its default, ready to paste into an experiment.
void print_default_step(const LoadedPlugin& plugin, std::ostream& out);
// One line per library on the search path: name, version, availability, path (or the error).
void print_plugin_list(const std::vector<ListedPlugin>& plugins, std::ostream& out);

}  // namespace othrun
