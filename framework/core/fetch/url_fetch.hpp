// Fetching a file by URL into othrun's own cache (the Hub cache holds only Hub files):
//   URL_CACHE/KEY/NAME          the file (KEY: the first 16 hex digits of the URL's SHA-256)
//   URL_CACHE/KEY/NAME.sha256   its content hash, as sha256sum prints it
//   URL_CACHE/KEY/url           the URL, for people looking at the cache
#pragma once

#include <optional>

#include "fetch/fetch.hpp"

namespace othrun::fetch {

std::optional<Fetched> find_url_cached(const Reference& ref, const Settings& settings);
Fetched fetch_url(const Reference& ref, const Settings& settings);

}  // namespace othrun::fetch
