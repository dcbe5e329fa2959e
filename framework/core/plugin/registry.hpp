// Finds and loads plugin libraries (Boost.DLL), checking their ABI version before anything else.
#pragma once

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <othrun/error.hpp>
#include <othrun/plugin.hpp>

namespace othrun {

// A plugin library could not be found or loaded. The message names the path and the reason.
class PluginError : public Error {
 public:
  using Error::Error;
};

// A loaded plugin. The library stays loaded as long as any copy of `library` lives: objects made by
// the plugin must be destroyed before it (see StepInstance).
struct LoadedPlugin {
  std::shared_ptr<boost::dll::shared_library> library;
  const PluginInfo* info = nullptr;
  Schema schema;
  std::filesystem::path path;
};

// A step object together with the library that made it; the step is destroyed first.
struct StepInstance {
  std::shared_ptr<boost::dll::shared_library> library;
  std::unique_ptr<Step> step;
};

// The result of trying one library, for `othrun --list`.
struct ListedPlugin {
  std::filesystem::path path;
  std::shared_ptr<const LoadedPlugin> plugin;  // null when loading failed
  std::string error;                           // why, when it failed
};

class PluginRegistry {
 public:
  // Directories searched in order; the first holding NAME.so wins.
  explicit PluginRegistry(std::vector<std::filesystem::path> search_path);

  // The search path a host uses: --plugin-path entries, $OTHRUN_PLUGIN_PATH, the install folder
  // next to the executable, then the build tree's plugin folder (when it exists).
  static std::vector<std::filesystem::path> default_search_path(
      const std::vector<std::string>& cli_paths, const std::filesystem::path& build_plugin_dir);

  const std::vector<std::filesystem::path>& search_path() const { return search_path_; }

  // Loads plugin `name` (once); throws PluginError naming the nearest known names.
  const LoadedPlugin& get(const std::string& name);
  // Names of every NAME.so on the search path, sorted, first occurrence only.
  std::vector<std::string> names() const;
  // Tries to load every library on the search path.
  std::vector<ListedPlugin> list_all() const;

  // Loads one library file; throws PluginError naming `path` and the reason.
  static std::shared_ptr<const LoadedPlugin> load_file(const std::filesystem::path& path);

 private:
  std::vector<std::filesystem::path> search_path_;
  std::map<std::string, std::shared_ptr<const LoadedPlugin>> loaded_;
};

// A plugin name is an identifier (letters, digits, '_'): it names NAME.so inside the search path
// and can never reach a file elsewhere.
bool is_plugin_name(const std::string& name);
// Why `name` is refused, for messages.
std::string not_a_plugin_name(const std::string& name);

StepInstance create_step(const LoadedPlugin& plugin, const Config& config);

}  // namespace othrun
