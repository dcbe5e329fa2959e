#include "fetch/hub_cache.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace othrun::fetch {
namespace {

// A name beside `path` that no other process uses at the same time.
fs::path temporary_beside(const fs::path& path) {
  return path.parent_path() / (path.filename().string() + ".tmp." + std::to_string(::getpid()));
}

void create_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw FetchError("cannot create the cache folder " + dir.string() + ": " + ec.message());
}

}  // namespace

std::string repo_folder_name(const Reference& ref) {
  std::string name = ref.repo_type == RepoType::Dataset ? "datasets" : "models";
  const auto slash = ref.repo_id.find('/');
  return name + "--" + ref.repo_id.substr(0, slash) + "--" + ref.repo_id.substr(slash + 1);
}

fs::path HubCache::repo_dir(const Reference& ref) const { return root_ / repo_folder_name(ref); }

fs::path HubCache::blob(const Reference& ref, const std::string& etag) const {
  return repo_dir(ref) / "blobs" / etag;
}

fs::path HubCache::partial_blob(const Reference& ref, const std::string& etag) const {
  return repo_dir(ref) / "blobs" / (etag + ".incomplete");
}

fs::path HubCache::snapshot_file(const Reference& ref, const std::string& commit) const {
  return repo_dir(ref) / "snapshots" / commit / fs::path(ref.path);
}

fs::path HubCache::lock_file(const Reference& ref, const std::string& etag) const {
  return root_ / ".locks" / repo_folder_name(ref) / (etag + ".lock");
}

std::optional<std::string> HubCache::commit_of(const Reference& ref) const {
  if (is_commit_hash(ref.revision)) return ref.revision;
  std::ifstream in(repo_dir(ref) / "refs" / fs::path(ref.revision));
  std::string commit;
  if (!(in >> commit) || !is_commit_hash(commit)) return std::nullopt;
  return commit;
}

std::optional<fs::path> HubCache::find(const Reference& ref) const {
  const auto commit = commit_of(ref);
  if (!commit) return std::nullopt;
  const fs::path file = snapshot_file(ref, *commit);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;  // follows the link to the blob
  return file;
}

void HubCache::write_ref(const Reference& ref, const std::string& commit) const {
  if (ref.revision == commit) return;
  const fs::path path = repo_dir(ref) / "refs" / fs::path(ref.revision);
  if (std::ifstream in(path); in) {
    std::string current;
    if (in >> current && current == commit) return;
  }
  create_dirs(path.parent_path());
  const fs::path temporary = temporary_beside(path);
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << commit;  // no newline: huggingface_hub writes the bare hash
    if (!out.flush()) throw FetchError("cannot write " + temporary.string());
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) throw FetchError("cannot write " + path.string() + ": " + ec.message());
}

void HubCache::link_snapshot(const Reference& ref, const std::string& commit,
                             const std::string& etag) const {
  const fs::path link = snapshot_file(ref, commit);
  create_dirs(link.parent_path());
  const fs::path target = fs::path(blob(ref, etag)).lexically_relative(link.parent_path());
  std::error_code ec;
  if (fs::is_symlink(link, ec) && fs::read_symlink(link, ec) == target) return;
  const fs::path temporary = temporary_beside(link);
  fs::remove(temporary, ec);
  if (::symlink(target.c_str(), temporary.c_str()) != 0) {
    throw FetchError("cannot create the link " + link.string() + ": " + std::strerror(errno));
  }
  fs::rename(temporary, link, ec);
  if (ec) throw FetchError("cannot create the link " + link.string() + ": " + ec.message());
}

}  // namespace othrun::fetch
