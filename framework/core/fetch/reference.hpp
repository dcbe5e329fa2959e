// A reference to a public file that othrun fetches before any plugin sees it (docs/fetch.md):
//   hf://ORG/REPO/PATH[@REVISION]           a file of a Hugging Face model repository
//   hf://datasets/ORG/REPO/PATH[@REVISION]  a file of a dataset repository
//   https://HOST/PATH[#sha256:HEX]          any URL, optionally pinned to its content's SHA-256
// The form of Hugging Face's file system, hf://ORG/REPO@REVISION/PATH, is read too.
#pragma once

#include <string>

#include <othrun/error.hpp>

namespace othrun::fetch {

// A reference that cannot be fetched: bad syntax, refused by the server, offline and not cached.
class FetchError : public Error {
 public:
  using Error::Error;
};

enum class RepoType { Model, Dataset };

struct Reference {
  enum class Kind { Hub, Url };
  Kind kind = Kind::Hub;
  // Hub files.
  RepoType repo_type = RepoType::Model;
  std::string repo_id;   // "ORG/REPO"
  std::string path;      // inside the repository, '/'-separated
  std::string revision;  // branch, tag or commit hash; "main" when not given
  // URLs.
  std::string url;     // without the #sha256 pin
  std::string sha256;  // the pinned content hash (64 lowercase hex digits), or empty

  // The canonical text: hf://[datasets/]ORG/REPO/PATH@REVISION, or URL[#sha256:HEX].
  std::string to_string() const;
};

// Whether `text` is meant as a reference (hf://, http:// or https://) rather than a local path.
bool is_reference(const std::string& text);
// Parses a reference; throws FetchError saying what is wrong and what was expected.
Reference parse_reference(const std::string& text);
// Whether `text` is a full 40-digit commit hash.
bool is_commit_hash(const std::string& text);

}  // namespace othrun::fetch
