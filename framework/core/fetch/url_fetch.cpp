#include "fetch/url_fetch.hpp"

#include <cctype>
#include <fstream>

#include <othrun/log.hpp>

#include "fetch/download.hpp"
#include "fetch/file_lock.hpp"
#include "runtime/content_hash.hpp"

namespace fs = std::filesystem;

namespace othrun::fetch {
namespace {

struct UrlPaths {
  fs::path dir, file, hash, partial, lock;
};

// The URL's last path segment, with characters unsafe in a file name replaced by '_'.
std::string file_name_of(const std::string& url) {
  std::string path = url.substr(0, url.find('?'));
  std::string name = path.substr(path.rfind('/') + 1);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  if (name.empty() || name.front() == '.') name = "file" + name;
  return name;
}

UrlPaths paths_for(const Reference& ref, const Settings& settings) {
  UrlPaths p;
  p.dir = settings.url_cache / sha256_hex(ref.url).substr(0, 16);
  const std::string name = file_name_of(ref.url);
  p.file = p.dir / name;
  p.hash = p.dir / (name + ".sha256");
  p.partial = p.dir / (name + ".incomplete");
  p.lock = p.dir / (name + ".lock");
  return p;
}

std::string recorded_sha256(const UrlPaths& paths) {
  std::ifstream in(paths.hash);
  std::string hex;
  in >> hex;
  return hex;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw FetchError("cannot write " + path.string());
}

}  // namespace

std::optional<Fetched> find_url_cached(const Reference& ref, const Settings& settings) {
  const UrlPaths paths = paths_for(ref, settings);
  std::error_code ec;
  if (!fs::is_regular_file(paths.file, ec)) return std::nullopt;
  const std::string sha256 = recorded_sha256(paths);
  if (sha256.size() != 64) return std::nullopt;
  if (!ref.sha256.empty() && sha256 != ref.sha256) return std::nullopt;  // pinned to other bytes
  return Fetched{ref.to_string(), paths.file, "", sha256};
}

Fetched fetch_url(const Reference& ref, const Settings& settings) {
  if (auto cached = find_url_cached(ref, settings)) return *cached;
  const UrlPaths paths = paths_for(ref, settings);
  if (settings.offline) {
    throw FetchError(ref.to_string() + ": HF_HUB_OFFLINE is set and the file is not in the cache " +
                     paths.dir.string() + " (fetch it with the network: othrun fetch " +
                     ref.to_string() + ")");
  }
  std::error_code ec;
  fs::create_directories(paths.dir, ec);
  if (ec)
    throw FetchError("cannot create the cache folder " + paths.dir.string() + ": " + ec.message());
  FileLock lock(paths.lock, ref.to_string());
  if (auto cached = find_url_cached(ref, settings)) return *cached;  // done while we waited
  write_text(paths.dir / "url", ref.url + "\n");
  log::info("downloading {}", ref.url);
  download(DownloadJob{ref.url, {}, paths.partial, std::nullopt, ref.url}, settings);
  const std::string sha256 = sha256_file(paths.partial);
  if (!ref.sha256.empty() && sha256 != ref.sha256) {
    fs::remove(paths.partial, ec);
    throw FetchError(ref.to_string() + ": the downloaded file's sha256 is " + sha256 +
                     ", not the pinned " + ref.sha256 + "; the download was removed");
  }
  write_text(paths.hash, sha256 + "  " + paths.file.filename().string() + "\n");
  fs::rename(paths.partial, paths.file, ec);
  if (ec)
    throw FetchError("cannot move " + paths.partial.string() + " into place: " + ec.message());
  return Fetched{ref.to_string(), paths.file, "", sha256};
}

}  // namespace othrun::fetch
