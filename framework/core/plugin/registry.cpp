#include "plugin/registry.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "config/suggest.hpp"
#include "plugin/elf_check.hpp"

namespace fs = std::filesystem;

namespace othrun {
namespace {

constexpr const char* kEnvVar = "OTHRUN_PLUGIN_PATH";

std::vector<fs::path> libraries_in(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so") found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// dlopen's own explanation, which Boost.DLL's exception does not always carry. Same mode as the
// real load, so an unresolved symbol is named here too.
std::string dlopen_reason(const fs::path& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle) {
    dlclose(handle);
    return "unknown reason";
  }
  const char* text = dlerror();
  return text ? text : "unknown reason";
}

}  // namespace

PluginRegistry::PluginRegistry(std::vector<fs::path> search_path)
    : search_path_(std::move(search_path)) {}

std::vector<fs::path> PluginRegistry::default_search_path(const std::vector<std::string>& cli_paths,
                                                          const fs::path& build_plugin_dir) {
  std::vector<fs::path> path;
  auto add_list = [&](const std::string& list) {
    size_t start = 0;
    while (start <= list.size()) {
      const size_t colon = list.find(':', start);
      const std::string entry = list.substr(start, colon - start);
      if (!entry.empty()) path.emplace_back(entry);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  };
  for (const auto& entry : cli_paths) add_list(entry);
  if (const char* env = std::getenv(kEnvVar)) add_list(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) path.push_back(exe.parent_path().parent_path() / OTHRUN_PLUGIN_INSTALL_SUBDIR);
  if (!build_plugin_dir.empty()) path.push_back(build_plugin_dir);
  return path;
}

bool is_plugin_name(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string not_a_plugin_name(const std::string& name) {
  return "'" + name +
         "' is not a plugin name: a plugin is named by letters, digits and '_' only, and is looked "
         "up as NAME.so in the plugin search path (never a path)";
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::load_file(const fs::path& path) {
  if (!fs::exists(path)) throw PluginError(path.string() + ": no such file");
  // Before dlopen: a damaged file would crash the dynamic loader (SIGBUS), not fail.
  if (const std::string problem = elf_problem(path); !problem.empty()) {
    throw PluginError(path.string() + ": cannot load: " + problem);
  }
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  // RTLD_NOW: a symbol the plugin needs but no library provides is a load error here, not a
  // "symbol lookup error" that kills the process mid-run.
  library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !library->is_loaded()) {
    throw PluginError(path.string() + ": cannot load: " + dlopen_reason(path));
  }
  if (!library->has(OTHRUN_PLUGIN_ENTRY_NAME)) {
    throw PluginError(path.string() + ": not an othrun plugin: no entry point '" +
                      OTHRUN_PLUGIN_ENTRY_NAME + "' (missing OTHRUN_PLUGIN(...)?)");
  }
  auto entry = library->get<const PluginInfo*()>(OTHRUN_PLUGIN_ENTRY_NAME);
  const PluginInfo* info = entry();
  if (!info) throw PluginError(path.string() + ": entry point returned no plugin information");
  // abi_version is read first and alone: nothing else in `info` is trusted until it matches.
  if (info->abi_version != kPluginAbiVersion) {
    throw PluginError(path.string() + ": plugin ABI version " + std::to_string(info->abi_version) +
                      ", but this othrun needs version " + std::to_string(kPluginAbiVersion) +
                      ": rebuild the plugin against this othrun SDK");
  }
  const std::string stem = path.stem().string();
  if (!info->name || stem != info->name) {
    throw PluginError(path.string() + ": the library declares plugin '" +
                      std::string(info->name ? info->name : "") + "'; its file must be named '" +
                      (info->name ? info->name : "?") + ".so'");
  }
  if (!info->describe || !info->create || !info->probe) {
    throw PluginError(path.string() + ": plugin information lacks describe, probe or create");
  }
  auto plugin = std::make_shared<LoadedPlugin>();
  plugin->library = std::move(library);
  plugin->info = info;
  plugin->schema = info->describe();
  plugin->path = path;
  return plugin;
}

const LoadedPlugin& PluginRegistry::get(const std::string& name) {
  if (!is_plugin_name(name)) throw PluginError(not_a_plugin_name(name));
  if (auto it = loaded_.find(name); it != loaded_.end()) return *it->second;
  for (const auto& dir : search_path_) {
    const fs::path candidate = dir / (name + ".so");
    if (fs::exists(candidate)) return *(loaded_[name] = load_file(candidate));
  }
  const auto known = names();
  std::string message = "unknown plugin '" + name + "'";
  const auto close = nearest(name, known, 3);
  if (!close.empty()) message += "; did you mean " + join_list(close) + "?";
  std::vector<std::string> dirs;
  for (const auto& dir : search_path_) dirs.push_back(dir.string());
  message += " (known plugins: " + join_list(known) + "; searched: " + join_list(dirs) + ")";
  throw PluginError(message);
}

std::vector<std::string> PluginRegistry::names() const {
  std::set<std::string> names;
  for (const auto& dir : search_path_) {
    for (const auto& library : libraries_in(dir)) {
      if (is_plugin_name(library.stem().string())) names.insert(library.stem().string());
    }
  }
  return {names.begin(), names.end()};
}

std::vector<ListedPlugin> PluginRegistry::list_all() const {
  std::vector<ListedPlugin> listed;
  std::set<std::string> seen;
  for (const auto& dir : search_path_) {
    for (const auto& library : libraries_in(dir)) {
      if (!seen.insert(library.stem().string()).second) continue;
      ListedPlugin entry{library, nullptr, ""};
      if (!is_plugin_name(library.stem().string())) {
        entry.error =
            library.string() + ": not loaded: " + not_a_plugin_name(library.stem().string());
        listed.push_back(std::move(entry));
        continue;
      }
      try {
        entry.plugin = load_file(library);
      } catch (const std::exception& error) {
        entry.error = error.what();
      }
      listed.push_back(std::move(entry));
    }
  }
  return listed;
}

StepInstance create_step(const LoadedPlugin& plugin, const Config& config) {
  StepInstance instance;
  instance.library = plugin.library;
  instance.step = plugin.info->create(config);
  return instance;
}

}  // namespace othrun
