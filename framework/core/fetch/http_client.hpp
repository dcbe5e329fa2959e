// One HTTP request over libcurl, with RAII handles. Redirects are not followed unless asked: the
// Hub's metadata lives on the redirect response itself.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace othrun::fetch {

struct HttpRequest {
  std::string url;
  bool head = false;  // HEAD instead of GET
  bool follow_redirects = false;
  std::vector<std::string> headers;  // "Name: value"
  std::uint64_t range_from = 0;      // > 0: ask for bytes from here on (Range: bytes=N-)
  int connect_timeout_s = 10;
  int stall_timeout_s = 10;  // abort when no byte arrives for this long
  // Receives the body of a 2xx reply (nothing else), with that reply's status and headers;
  // returns false to abort the transfer.
  std::function<bool(const struct HttpResponse& reply, const char* data, std::size_t size)> on_body;
};

struct HttpResponse {
  long status = 0;                             // 0 when no reply came
  std::map<std::string, std::string> headers;  // of the last reply; names lower-case
  std::string error_body;                      // the start of a non-2xx reply's body
  int curl_code = 0;                           // CURLE_OK (0) when the transfer completed
  std::string curl_error;                      // what went wrong when curl_code != 0
  bool aborted = false;                        // on_body returned false

  std::string header(const std::string& lower_name) const;
  bool transport_failed() const { return curl_code != 0; }
  // A failure worth retrying: no reply, a timeout, a cut connection, 5xx, 408 or 429.
  bool retryable() const;
};

// Performs the request. Never throws for network trouble: the response says what happened.
HttpResponse perform(const HttpRequest& request);

// libcurl's version line, for messages and `othrun --system`.
std::string curl_version_text();

}  // namespace othrun::fetch
