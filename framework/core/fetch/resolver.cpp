#include "fetch/resolver.hpp"

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
  // Offline, fetch() touches no network: it answers from the cache or says where it looked.
  if (mode_ == ResolveMode::Fetch || settings().offline) {
    result = fetch(ref, settings());
  } else {
    result = find_cached(ref, settings());
    if (!result) pending_.push_back(key);
  }
  done_[key] = result;
  return result;
}

}  // namespace othrun::fetch
