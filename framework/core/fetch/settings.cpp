#include "fetch/settings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fetch/reference.hpp"

namespace fs = std::filesystem;

namespace othrun::fetch {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// huggingface_hub expands '~' in its cache paths.
fs::path expand_user(const std::string& text) {
  if (text == "~" || text.rfind("~/", 0) == 0) return env("HOME") + text.substr(1);
  return text;
}

fs::path home_cache() {
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty()) return expand_user(xdg);
  return fs::path(env("HOME")) / ".cache";
}

// huggingface_hub's truthy values: "1", "ON", "YES", "TRUE", in any case.
bool is_true(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text == "1" || text == "ON" || text == "YES" || text == "TRUE";
}

int positive_int(const char* name, int fallback, int min) {
  const std::string text = env(name);
  if (text.empty()) return fallback;
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && value >= min && value <= 86400) return static_cast<int>(value);
  } catch (const std::exception&) {
  }
  throw FetchError(std::string(name) + "='" + text + "': expected a whole number from " +
                   std::to_string(min) + " to 86400");
}

std::string read_token_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  token.erase(
      std::remove_if(token.begin(), token.end(), [](unsigned char c) { return std::isspace(c); }),
      token.end());
  return token;
}

}  // namespace

Settings settings_from_environment() {
  Settings s;
  const fs::path hf_home =
      env("HF_HOME").empty() ? home_cache() / "huggingface" : expand_user(env("HF_HOME"));
  if (!env("HF_HUB_CACHE").empty()) {
    s.hub_cache = expand_user(env("HF_HUB_CACHE"));
  } else if (!env("HUGGINGFACE_HUB_CACHE").empty()) {  // the older name, still read by the Hub
    s.hub_cache = expand_user(env("HUGGINGFACE_HUB_CACHE"));
  } else {
    s.hub_cache = hf_home / "hub";
  }
  s.url_cache =
      (env("OTHRUN_CACHE").empty() ? home_cache() / "othrun" : expand_user(env("OTHRUN_CACHE"))) /
      "url";
  s.endpoint = env("HF_ENDPOINT").empty() ? "https://huggingface.co" : env("HF_ENDPOINT");
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (s.endpoint.rfind("https://", 0) != 0 && s.endpoint.rfind("http://", 0) != 0) {
    throw FetchError("HF_ENDPOINT='" + s.endpoint + "': expected an http:// or https:// URL");
  }
  s.token = env("HF_TOKEN");
  if (s.token.empty()) s.token = env("HUGGING_FACE_HUB_TOKEN");  // the older name
  if (s.token.empty()) {
    const std::string token_path = env("HF_TOKEN_PATH");
    s.token = read_token_file(token_path.empty() ? hf_home / "token" : expand_user(token_path));
  }
  s.offline = is_true(env("HF_HUB_OFFLINE"));
  s.metadata_timeout_s = positive_int("HF_HUB_ETAG_TIMEOUT", 10, 1);
  s.download_timeout_s = positive_int("HF_HUB_DOWNLOAD_TIMEOUT", 10, 1);
  s.retries = positive_int("OTHRUN_FETCH_RETRIES", 5, 0);
  return s;
}

}  // namespace othrun::fetch
