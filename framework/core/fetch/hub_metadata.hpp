// What the Hub says about one file before it is downloaded: a HEAD request on the resolve
// endpoint, redirects not followed (huggingface_hub's get_hf_file_metadata). The commit comes from
// X-Repo-Commit, the ETag from X-Linked-Etag (LFS files: the sha256 of the content) or ETag, the
// size from X-Linked-Size or Content-Length, and the download URL from Location (the CDN).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fetch/fetch.hpp"

namespace othrun::fetch {

struct HubMetadata {
  std::string commit;
  std::string etag;  // without quotes or W/
  std::optional<std::uint64_t> size;
  std::string download_url;
};

// The Hub could not be reached (no reply, timeouts or 5xx after the retries): the caller may fall
// back to the cache.
class HubUnreachable : public FetchError {
 public:
  using FetchError::FetchError;
};

// Throws HubUnreachable, or FetchError for 401/403/404 and replies that are not the Hub's.
HubMetadata hub_metadata(const Reference& ref, const Settings& settings);

// The headers every Hub request carries (the token, when one is set).
std::vector<std::string> hub_headers(const Settings& settings);
// "scheme://host[:port]" of a URL, to send the token to the endpoint's host only.
std::string origin_of(const std::string& url);

}  // namespace othrun::fetch
