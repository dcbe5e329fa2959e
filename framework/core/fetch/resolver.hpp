// Resolves the references an experiment names, once each, for the experiment loader: at --check
// from the cache only (a file not cached is "to fetch", or an error when HF_HUB_OFFLINE=1), for a
// run by fetching.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fetch/fetch.hpp"

namespace othrun::fetch {

enum class ResolveMode {
  CacheOnly,  // never the network (--check, and the validation before a run)
  Fetch,      // download what is missing and ask the Hub where each revision points
};

class Resolver {
 public:
  explicit Resolver(ResolveMode mode) : mode_(mode) {}

  // The local file for reference `text`; nullopt in CacheOnly mode for a file that is not cached
  // (listed in pending()). Throws FetchError with the reason it cannot be had.
  std::optional<Fetched> resolve(const std::string& text);
  // References not cached, in the order first seen (CacheOnly mode).
  const std::vector<std::string>& pending() const { return pending_; }

 private:
  const Settings& settings();

  ResolveMode mode_;
  std::optional<Settings> settings_;
  std::map<std::string, std::optional<Fetched>> done_;  // by canonical reference
  std::vector<std::string> pending_;
};

}  // namespace othrun::fetch
