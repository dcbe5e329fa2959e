// A plugin built against a future ABI: the loader must refuse it before reading anything else.
#include <othrun/plugin.hpp>

extern "C" __attribute__((visibility("default"))) const othrun::PluginInfo* othrun_plugin_info() {
  static othrun::PluginInfo info{};
  info.abi_version = othrun::kPluginAbiVersion + 998;
  info.name = "bad_abi";
  return &info;
}
