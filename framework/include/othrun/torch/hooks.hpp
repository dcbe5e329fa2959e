// Hook names moved to <othrun/hooks.hpp> (core, no LibTorch); these names stay for the model code.
#pragma once

#include <othrun/hooks.hpp>

namespace othrun::gpt {

using othrun::all_hook_names;
using othrun::hook_layer;
using othrun::hook_syntax_error;
using othrun::resolve_hook;

}  // namespace othrun::gpt
