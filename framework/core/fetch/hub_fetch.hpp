// Fetching one file of a Hugging Face repository through the Hub's resolve endpoint.
#pragma once

#include <optional>

#include "fetch/fetch.hpp"

namespace othrun::fetch {

std::optional<Fetched> find_hub_cached(const Reference& ref, const Settings& settings);
Fetched fetch_hub(const Reference& ref, const Settings& settings);

// {endpoint}/[datasets/]ORG/REPO/resolve/{revision}/{path}, percent-encoded as the Hub expects.
std::string resolve_url(const Reference& ref, const std::string& endpoint);

}  // namespace othrun::fetch
