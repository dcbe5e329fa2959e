#include "fetch/resolver.hpp"

#include <algorithm>

namespace othrun::fetch {

const Settings& Resolver::settings() {
  if (!settings_) settings_ = settings_from_environment();
  return *settings_;
}

std::optional<Fetched> Resolver::resolve(const std::string& text) {
  const Reference ref = parse_reference(text);
  const std::string key = ref.to_string();
  if (auto it = done_.find(key); it != done_.end()) return it->second;
  std::optional<Fetched> result;
  if (mode_ == ResolveMode::Fetch) {
    result = fetch(ref, settings());
  } else {
    result = find_cached(ref, settings());
    if (!result && settings().offline) {
      throw FetchError(key +
                       ": HF_HUB_OFFLINE is set and the file is not in the cache (fetch it "
                       "with the network: othrun fetch " +
                       key + ")");
    }
    if (!result) pending_.push_back(key);
  }
  done_[key] = result;
  return result;
}

}  // namespace othrun::fetch
