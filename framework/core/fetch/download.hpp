// Downloads one URL into a partial file, resuming what an earlier attempt (or process) left there
// with an HTTP Range request, and retrying with back-off after 5xx replies, timeouts and cut
// connections.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fetch/http_client.hpp"
#include "fetch/settings.hpp"

namespace othrun::fetch {

struct DownloadJob {
  std::string url;
  std::vector<std::string> headers;   // e.g. Authorization
  std::filesystem::path partial;      // kept between attempts: BLOB.incomplete
  std::optional<std::uint64_t> size;  // when the server announced it beforehand
  std::string name;                   // for progress and messages
};

// Returns once `job.partial` holds the whole body. Throws FetchError (HTTP errors, retries used
// up, a size other than announced, a write error) or othrun::Interrupted; the partial file is
// kept for a later resume except when its bytes are known to be wrong.
void download(const DownloadJob& job, const Settings& settings);

// "HTTP 503 (Service Unavailable)" or "no reply: <curl's message>".
std::string describe_failure(const HttpResponse& response);
// Sleeps before retry `attempt` (1, 2, ...): retry_delay_s doubled each time, at most 8 s, or the
// server's Retry-After (at most 30 s). Ctrl-C cuts it short with othrun::Interrupted.
void back_off(const Settings& settings, int attempt, const HttpResponse& response);

}  // namespace othrun::fetch
