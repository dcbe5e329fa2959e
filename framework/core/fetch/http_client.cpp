#include "fetch/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

#include <othrun/progress.hpp>

#include "runtime/revision.hpp"

namespace othrun::fetch {
namespace {

constexpr std::size_t kErrorBodyLimit = 4096;

// curl_global_init is not thread-safe: once per process, before the first handle.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* handle = nullptr;
  // For the stall check: the bytes received so far and when the last of them came.
  curl_off_t received = 0;
  std::chrono::steady_clock::time_point last_byte = std::chrono::steady_clock::now();
  bool stalled = false;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

extern "C" std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response->headers.clear();  // a new reply (after a followed redirect)
  } else if (const auto colon = line.find(':'); colon != std::string::npos) {
    transfer->response->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * count;
}

extern "C" std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    std::string& body = transfer->response->error_body;
    body.append(data, std::min(bytes, kErrorBodyLimit - std::min(body.size(), kErrorBodyLimit)));
    return bytes;
  }
  transfer->response->status = status;
  if (transfer->request->on_body && !transfer->request->on_body(*transfer->response, data, bytes)) {
    transfer->response->aborted = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  return bytes;
}

// Called by libcurl at least once a second: ends a transfer after Ctrl-C, or when no byte has
// come for stall_timeout_s. (CURLOPT_LOW_SPEED_TIME averages the rate over several seconds, so a
// body that stops after a burst would go on far longer than the timeout.)
extern "C" int on_progress(void* user, curl_off_t, curl_off_t received, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (interrupt_requested()) return 1;
  const auto now = std::chrono::steady_clock::now();
  if (received != transfer->received) {
    transfer->received = received;
    transfer->last_byte = now;
  } else if (now - transfer->last_byte > std::chrono::seconds(transfer->request->stall_timeout_s)) {
    transfer->stalled = true;
    return 1;
  }
  return 0;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

bool HttpResponse::retryable() const {
  if (aborted) return false;
  if (transport_failed()) {
    return curl_code != CURLE_ABORTED_BY_CALLBACK && curl_code != CURLE_UNSUPPORTED_PROTOCOL &&
           curl_code != CURLE_URL_MALFORMAT && curl_code != CURLE_WRITE_ERROR;
  }
  return status >= 500 || status == 408 || status == 429;
}

HttpResponse perform(const HttpRequest& request) {
  init_curl_once();
  HttpResponse response;
  EasyHandle handle(curl_easy_init());
  if (!handle) {
    response.curl_code = CURLE_FAILED_INIT;
    response.curl_error = "libcurl could not start a transfer";
    return response;
  }
  Transfer transfer{&request, &response, handle.get()};
  HeaderList headers;
  for (const auto& header : request.headers) {
    curl_slist* grown = curl_slist_append(headers.get(), header.c_str());
    if (grown) {
      headers.release();
      headers.reset(grown);
    }
  }
  const std::string user_agent = std::string("othrun/") + framework_revision();
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* h = handle.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(request.connect_timeout_s));
  if (request.head) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    // A HEAD reply carries no body; bound the whole exchange by the metadata timeout.
    curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(request.stall_timeout_s));
  }
  const std::string range = std::to_string(request.range_from) + "-";
  if (request.range_from > 0) curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);

  const CURLcode code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  response.curl_code = code;
  if (transfer.stalled) {
    response.curl_code = CURLE_OPERATION_TIMEDOUT;
    response.curl_error = "no data for " + std::to_string(request.stall_timeout_s) + " s";
  } else if (code != CURLE_OK) {
    response.curl_error = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  }
  return response;
}

std::string curl_version_text() { return curl_version(); }

}  // namespace othrun::fetch
