// Fetching the files that experiment parameters name by reference (reference.hpp), into the caches
// of settings.hpp. The host resolves every reference to a local file before a plugin sees it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "fetch/reference.hpp"
#include "fetch/settings.hpp"

namespace othrun::fetch {

// A reference resolved to a local file, with what provenance records about it.
struct Fetched {
  std::string reference;       // canonical text (Reference::to_string)
  std::filesystem::path path;  // the local file (a snapshot link for Hub files)
  std::string commit;          // the Hub commit the revision resolved to; empty for URLs
  std::string sha256;          // of the file's content
};

// The cached file for `ref`, never touching the network: for a Hub file, the snapshot of the
// commit that refs/REVISION records (the revision as last resolved).
std::optional<Fetched> find_cached(const Reference& ref, const Settings& settings);

// Resolves `ref` to a local file, downloading it when needed. A Hub reference always asks the Hub
// which commit its revision names (one HEAD request), unless the revision is a commit hash already
// cached or HF_HUB_OFFLINE=1; when the Hub cannot be reached, a cached copy is used with a warning.
// A URL is downloaded once and then used from the cache. Throws FetchError saying what to do.
Fetched fetch(const Reference& ref, const Settings& settings);

}  // namespace othrun::fetch
