// Where fetched files go and how the Hub is reached, from the environment variables that
// huggingface_hub reads, with the same meanings (docs/fetch.md, "Environment").
#pragma once

#include <filesystem>
#include <string>

namespace othrun::fetch {

struct Settings {
  std::filesystem::path hub_cache;  // HF_HUB_CACHE, else $HF_HOME/hub
  std::filesystem::path url_cache;  // $OTHRUN_CACHE/url, else ~/.cache/othrun/url
  std::string endpoint;             // HF_ENDPOINT without a trailing '/'
  std::string token;                // HF_TOKEN, else the token file huggingface-cli login wrote
  bool offline = false;             // HF_HUB_OFFLINE=1: never touch the network
  int metadata_timeout_s = 10;      // HF_HUB_ETAG_TIMEOUT: connect and wait for the headers
  int download_timeout_s = 10;      // HF_HUB_DOWNLOAD_TIMEOUT: longest wait without a byte
  int retries = 5;                  // OTHRUN_FETCH_RETRIES: retries after a 5xx or timeout
  double retry_delay_s = 0.5;       // first back-off; doubles each retry, at most 8 s
};

// Reads the environment now; throws FetchError for a value it cannot use (e.g. a bad timeout).
Settings settings_from_environment();

}  // namespace othrun::fetch
