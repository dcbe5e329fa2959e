#include "fetch/fetch.hpp"

#include "fetch/hub_fetch.hpp"
#include "fetch/url_fetch.hpp"

namespace othrun::fetch {

std::optional<Fetched> find_cached(const Reference& ref, const Settings& settings) {
  return ref.kind == Reference::Kind::Hub ? find_hub_cached(ref, settings)
                                          : find_url_cached(ref, settings);
}

Fetched fetch(const Reference& ref, const Settings& settings) {
  return ref.kind == Reference::Kind::Hub ? fetch_hub(ref, settings) : fetch_url(ref, settings);
}

}  // namespace othrun::fetch
