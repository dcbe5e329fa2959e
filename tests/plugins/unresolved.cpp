// A plugin that calls a function no library defines (linked without -z defs, as a careless
// out-of-tree build would be): loaded RTLD_NOW, it must be a load error naming the symbol, not a
// "symbol lookup error" that kills othrun when the entry point runs.
#include <othrun/plugin.hpp>

extern "C" int othrun_test_symbol_nobody_defines();

extern "C" __attribute__((visibility("default"))) const othrun::PluginInfo* othrun_plugin_info() {
  static othrun::PluginInfo info{};
  info.abi_version = othrun::kPluginAbiVersion;
  info.name = othrun_test_symbol_nobody_defines() ? "unresolved" : "unresolved";
  return &info;
}
