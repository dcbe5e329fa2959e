// The cache layout of huggingface_hub, so that files downloaded by Python are used by othrun and
// the other way round:
//   HF_HUB_CACHE/models--ORG--REPO/refs/REVISION           the commit hash REVISION points at
//   HF_HUB_CACHE/models--ORG--REPO/blobs/ETAG              the file's bytes (ETAG: the LFS sha256
//                                                          or the git blob id)
//   HF_HUB_CACHE/models--ORG--REPO/snapshots/COMMIT/PATH   a relative link to ../../blobs/ETAG
//   HF_HUB_CACHE/.locks/models--ORG--REPO/ETAG.lock        held while a process downloads ETAG
// Dataset repositories use datasets--ORG--REPO.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "fetch/reference.hpp"

namespace othrun::fetch {

class HubCache {
 public:
  explicit HubCache(std::filesystem::path root) : root_(std::move(root)) {}

  std::filesystem::path repo_dir(const Reference& ref) const;
  std::filesystem::path blob(const Reference& ref, const std::string& etag) const;
  std::filesystem::path partial_blob(const Reference& ref, const std::string& etag) const;
  std::filesystem::path snapshot_file(const Reference& ref, const std::string& commit) const;
  std::filesystem::path lock_file(const Reference& ref, const std::string& etag) const;

  // The commit the revision names: itself when it is a commit hash, else refs/REVISION.
  std::optional<std::string> commit_of(const Reference& ref) const;
  // The snapshot file of the revision, when the cache holds it (the link and its blob).
  std::optional<std::filesystem::path> find(const Reference& ref) const;

  // Records that `ref.revision` points at `commit` (nothing for a commit hash), atomically.
  void write_ref(const Reference& ref, const std::string& commit) const;
  // Links snapshots/COMMIT/PATH to the blob (replacing an older link atomically).
  void link_snapshot(const Reference& ref, const std::string& commit,
                     const std::string& etag) const;

 private:
  std::filesystem::path root_;
};

// "models--ORG--REPO" or "datasets--ORG--REPO".
std::string repo_folder_name(const Reference& ref);

}  // namespace othrun::fetch
