#include "fetch/hub_fetch.hpp"

#include <cctype>

#include <othrun/log.hpp>

#include "fetch/download.hpp"
#include "fetch/file_lock.hpp"
#include "fetch/hub_cache.hpp"
#include "fetch/hub_metadata.hpp"
#include "runtime/content_hash.hpp"

namespace fs = std::filesystem;

namespace othrun::fetch {
namespace {

// Percent-encodes all but unreserved characters (and '/' when `keep_slash`), as Python's
// urllib.parse.quote does for the Hub's URLs.
std::string quote(const std::string& text, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool is_sha256(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// An LFS file's ETag is the sha256 of its content; other files' is their git blob id.
std::string content_sha256(const fs::path& file, const std::string& etag) {
  return is_sha256(etag) ? etag : sha256_file(file);
}

Fetched fetched(const Reference& ref, const fs::path& file, const std::string& commit,
                const std::string& etag) {
  return Fetched{ref.to_string(), file, commit, content_sha256(file, etag)};
}

// The blob a cached snapshot file links to is named by its ETag.
std::string etag_of_snapshot(const fs::path& file) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(file, ec);
  return ec ? "" : target.filename().string();
}

void download_blob(const Reference& ref, const Settings& settings, const HubCache& cache,
                   const HubMetadata& meta) {
  const fs::path blob = cache.blob(ref, meta.etag);
  std::error_code ec;
  fs::create_directories(blob.parent_path(), ec);
  DownloadJob job;
  job.url = meta.download_url;
  // The token goes to the Hub only, never to the CDN it redirects to.
  if (origin_of(job.url) == origin_of(settings.endpoint)) job.headers = hub_headers(settings);
  job.partial = cache.partial_blob(ref, meta.etag);
  job.size = meta.size;
  job.name = ref.to_string();
  if (meta.size) {
    log::info("downloading {} (commit {}, {} bytes)", ref.to_string(), meta.commit.substr(0, 12),
              *meta.size);
  } else {
    log::info("downloading {} (commit {})", ref.to_string(), meta.commit.substr(0, 12));
  }
  download(job, settings);
  if (is_sha256(meta.etag)) {
    const std::string got = sha256_file(job.partial);
    if (got != meta.etag) {
      fs::remove(job.partial, ec);
      throw FetchError(ref.to_string() + ": the downloaded file's sha256 is " + got +
                       ", but the Hub says " + meta.etag +
                       "; the download was removed (run again to fetch it anew)");
    }
  }
  fs::rename(job.partial, blob, ec);
  if (ec) throw FetchError("cannot move " + job.partial.string() + " into place: " + ec.message());
}

}  // namespace

std::string resolve_url(const Reference& ref, const std::string& endpoint) {
  return endpoint + "/" + (ref.repo_type == RepoType::Dataset ? "datasets/" : "") + ref.repo_id +
         "/resolve/" + quote(ref.revision, false) + "/" + quote(ref.path, true);
}

std::optional<Fetched> find_hub_cached(const Reference& ref, const Settings& settings) {
  const HubCache cache(settings.hub_cache);
  const auto file = cache.find(ref);
  if (!file) return std::nullopt;
  return fetched(ref, *file, *cache.commit_of(ref), etag_of_snapshot(*file));
}

Fetched fetch_hub(const Reference& ref, const Settings& settings) {
  const HubCache cache(settings.hub_cache);
  // A commit never moves: a cached file of a commit hash needs no request.
  if (is_commit_hash(ref.revision)) {
    if (auto cached = find_hub_cached(ref, settings)) return *cached;
  }
  if (settings.offline) {
    if (auto cached = find_hub_cached(ref, settings)) return *cached;
    throw FetchError(ref.to_string() + ": HF_HUB_OFFLINE is set and the file is not in the cache " +
                     cache.repo_dir(ref).string() + " (fetch it with the network: othrun fetch " +
                     ref.to_string() + ")");
  }
  HubMetadata meta;
  try {
    meta = hub_metadata(ref, settings);
  } catch (const HubUnreachable& error) {
    if (auto cached = find_hub_cached(ref, settings)) {
      log::warn("{}; using the cached copy of commit {}", error.what(), cached->commit);
      return *cached;
    }
    throw FetchError(std::string(error.what()) + "; the file is not in the cache " +
                     cache.repo_dir(ref).string() +
                     " (check the network, or set HF_ENDPOINT "
                     "to a mirror)");
  }
  cache.write_ref(ref, meta.commit);
  const fs::path snapshot = cache.snapshot_file(ref, meta.commit);
  std::error_code ec;
  if (!fs::is_regular_file(cache.blob(ref, meta.etag), ec)) {
    FileLock lock(cache.lock_file(ref, meta.etag), ref.to_string());
    // Another process may have finished it while we waited for the lock.
    if (!fs::is_regular_file(cache.blob(ref, meta.etag), ec)) {
      download_blob(ref, settings, cache, meta);
    }
  }
  cache.link_snapshot(ref, meta.commit, meta.etag);
  return fetched(ref, snapshot, meta.commit, meta.etag);
}

}  // namespace othrun::fetch
