#include "fetch/hub_metadata.hpp"

#include <fmt/format.h>

#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include "fetch/download.hpp"
#include "fetch/http_client.hpp"
#include "fetch/hub_fetch.hpp"

namespace othrun::fetch {
namespace {

constexpr int kMaxRelativeRedirects = 5;

// huggingface_hub's _normalize_etag: drop a weak marker and the quotes.
std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string repo_page(const Reference& ref, const Settings& settings) {
  return settings.endpoint + "/" + (ref.repo_type == RepoType::Dataset ? "datasets/" : "") +
         ref.repo_id;
}

[[noreturn]] void throw_refused(const Reference& ref, const Settings& settings,
                                const HttpResponse& reply) {
  const std::string code = reply.header("x-error-code");
  const std::string what = ref.to_string() + ": ";
  if (reply.status == 401 || reply.status == 403) {
    if (code == "GatedRepo") {
      throw FetchError(what + ref.repo_id + " is gated (" + describe_failure(reply) +
                       "): accept its conditions on " + repo_page(ref, settings) +
                       " and set HF_TOKEN to a token of that account");
    }
    throw FetchError(what + "access denied (" + describe_failure(reply) + ") by " +
                     settings.endpoint + ": " + ref.repo_id +
                     " is private or gated, or does not exist. " +
                     (settings.token.empty()
                          ? "Set HF_TOKEN to a token with access (huggingface.co/settings/tokens)"
                          : "The token in HF_TOKEN was refused or has no access to it"));
  }
  if (reply.status == 404) {
    if (code == "RepoNotFound") {
      throw FetchError(what + "no repository " + ref.repo_id + " on " + settings.endpoint +
                       " (HTTP 404)");
    }
    if (code == "RevisionNotFound") {
      throw FetchError(what + "no revision '" + ref.revision + "' in " + ref.repo_id + " on " +
                       settings.endpoint + " (HTTP 404)");
    }
    throw FetchError(what + "no file '" + ref.path + "' in " + ref.repo_id + " at revision '" +
                     ref.revision + "' on " + settings.endpoint + " (HTTP 404)");
  }
  throw FetchError(what + describe_failure(reply) + " from " + resolve_url(ref, settings.endpoint));
}

// A HEAD on `url`, retried after 5xx and timeouts.
HttpResponse head_with_retries(const std::string& url, const Reference& ref,
                               const Settings& settings) {
  for (int attempt = 0;; ++attempt) {
    HttpRequest request;
    request.url = url;
    request.head = true;
    request.headers = hub_headers(settings);
    request.headers.push_back("Accept-Encoding: identity");  // sizes are of the stored bytes
    request.connect_timeout_s = settings.metadata_timeout_s;
    request.stall_timeout_s = settings.metadata_timeout_s;
    HttpResponse reply = perform(request);
    if (reply.transport_failed()) check_interrupt();  // Ctrl-C ended the request
    if (!reply.retryable()) return reply;
    if (attempt >= settings.retries) {
      throw HubUnreachable(fmt::format("{}: cannot reach {}: {} (after {} retries)",
                                       ref.to_string(), settings.endpoint, describe_failure(reply),
                                       settings.retries));
    }
    log::warn("{}: {} from {}; retrying ({} of {})", ref.to_string(), describe_failure(reply),
              settings.endpoint, attempt + 1, settings.retries);
    back_off(settings, attempt + 1, reply);
  }
}

}  // namespace

std::string origin_of(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  return url.substr(0, url.find('/', scheme + 3));
}

std::vector<std::string> hub_headers(const Settings& settings) {
  std::vector<std::string> headers;
  if (!settings.token.empty()) headers.push_back("Authorization: Bearer " + settings.token);
  return headers;
}

HubMetadata hub_metadata(const Reference& ref, const Settings& settings) {
  std::string url = resolve_url(ref, settings.endpoint);
  HttpResponse reply;
  for (int hop = 0;; ++hop) {
    reply = head_with_retries(url, ref, settings);
    // A relative redirect is the Hub's own (a renamed repository): follow it. An absolute one
    // goes to the CDN and carries the metadata itself.
    const std::string location = reply.header("location");
    const bool relative = !location.empty() && location.front() == '/';
    if (reply.status >= 300 && reply.status < 400 && relative && hop < kMaxRelativeRedirects) {
      url = origin_of(url) + location;
      continue;
    }
    break;
  }
  if (reply.status >= 400 || reply.status < 200) throw_refused(ref, settings, reply);
  HubMetadata meta;
  meta.commit = reply.header("x-repo-commit");
  meta.etag = normalize_etag(!reply.header("x-linked-etag").empty() ? reply.header("x-linked-etag")
                                                                    : reply.header("etag"));
  meta.size = parse_size(!reply.header("x-linked-size").empty() ? reply.header("x-linked-size")
                                                                : reply.header("content-length"));
  if (meta.commit.empty() || meta.etag.empty()) {
    throw FetchError(ref.to_string() + ": the reply of " + url + " has no " +
                     (meta.commit.empty() ? "X-Repo-Commit" : "ETag") +
                     " header: is HF_ENDPOINT (" + settings.endpoint +
                     ") a Hugging Face Hub or a mirror of one?");
  }
  if (!is_commit_hash(meta.commit)) {
    throw FetchError(ref.to_string() + ": the Hub's X-Repo-Commit '" + meta.commit +
                     "' is not a 40-digit commit hash");
  }
  const bool plain_name =
      meta.etag.front() != '.' &&
      meta.etag.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos;
  if (!plain_name) {
    throw FetchError(ref.to_string() + ": the Hub's ETag '" + meta.etag +
                     "' cannot name a cache file");
  }
  const std::string location = reply.header("location");
  meta.download_url = location.empty()          ? url
                      : location.front() == '/' ? origin_of(url) + location
                                                : location;
  return meta;
}

}  // namespace othrun::fetch
