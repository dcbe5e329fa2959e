#include "fetch/reference.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace othrun::fetch {
namespace {

constexpr const char* kHubSyntax = "hf://ORG/REPO/PATH[@REVISION] or hf://datasets/ORG/REPO/PATH";

bool is_hex(const std::string& text, std::size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](unsigned char c) {
           return std::isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// An organisation or repository name as the Hub allows them: letters, digits, '-', '_', '.', not
// starting or ending with '-' or '.', without "--" or ".." (the Hub's own rule; "--" would also
// make the cache folder name ambiguous).
void check_name(const std::string& name, const char* what, const std::string& text) {
  const bool chars_ok = !name.empty() && name.size() <= 96 &&
                        std::all_of(name.begin(), name.end(), [](unsigned char c) {
                          return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                        });
  if (!chars_ok || name.front() == '-' || name.front() == '.' || name.back() == '-' ||
      name.back() == '.' || name.find("--") != std::string::npos ||
      name.find("..") != std::string::npos) {
    throw FetchError("'" + text + "': '" + name + "' is not a valid " + what +
                     " name (letters, digits, '-', '_' and '.'; expected " + kHubSyntax + ")");
  }
}

void check_repo_path(const std::string& path, const std::string& text) {
  if (path.empty()) {
    throw FetchError("'" + text + "' names no file in the repository (expected " +
                     std::string(kHubSyntax) + ")");
  }
  for (const auto& segment : split(path, '/')) {
    if (segment.empty() || segment == "." || segment == ".." ||
        segment.find('\\') != std::string::npos) {
      throw FetchError("'" + text + "': the file path '" + path +
                       "' must be relative, without empty, '.' or '..' parts");
    }
  }
}

void check_revision(const std::string& revision, const std::string& text) {
  const bool bad_char = std::any_of(revision.begin(), revision.end(), [](unsigned char c) {
    return std::isspace(c) || std::iscntrl(c) || c == '?' || c == '#';
  });
  if (revision.empty() || bad_char || revision.find("..") != std::string::npos ||
      revision.front() == '/' || revision.back() == '/') {
    throw FetchError("'" + text + "': '" + revision +
                     "' is not a revision (a branch, tag or 40-digit commit hash after '@')");
  }
}

// "%2F" in a revision written in the file-system form (refs%2Fpr%2F1).
std::string decode_slashes(std::string text) {
  for (std::size_t at; (at = text.find("%2F")) != std::string::npos ||
                       (at = text.find("%2f")) != std::string::npos;) {
    text.replace(at, 3, "/");
  }
  return text;
}

Reference parse_hub(const std::string& text) {
  if (text.find('#') != std::string::npos || text.find('?') != std::string::npos) {
    throw FetchError("'" + text + "': a hf:// reference takes no '#' or '?' part (expected " +
                     kHubSyntax + ")");
  }
  Reference ref;
  ref.kind = Reference::Kind::Hub;
  std::string rest = text.substr(5);  // after "hf://"
  if (rest.rfind("datasets/", 0) == 0) {
    ref.repo_type = RepoType::Dataset;
    rest = rest.substr(9);
  } else if (rest.rfind("models/", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.rfind("spaces/", 0) == 0) {
    throw FetchError("'" + text + "': Spaces are not supported; name a model or dataset file");
  }
  std::vector<std::string> parts = split(rest, '/');
  if (parts.size() < 3) {
    throw FetchError("'" + text + "' names no file: expected " + std::string(kHubSyntax));
  }
  std::string org = parts[0];
  std::string name = parts[1];
  std::string path;
  for (std::size_t i = 2; i < parts.size(); ++i) path += (i > 2 ? "/" : "") + parts[i];
  if (const auto at = name.find('@'); at != std::string::npos) {
    // hf://ORG/REPO@REVISION/PATH, the form of huggingface_hub's HfFileSystem.
    ref.revision = decode_slashes(name.substr(at + 1));
    name = name.substr(0, at);
  } else if (const auto last = path.rfind('@'); last != std::string::npos) {
    ref.revision = path.substr(last + 1);
    path = path.substr(0, last);
  } else {
    ref.revision = "main";
  }
  check_name(org, "organisation or user", text);
  check_name(name, "repository", text);
  check_repo_path(path, text);
  check_revision(ref.revision, text);
  ref.repo_id = org + "/" + name;
  ref.path = path;
  return ref;
}

Reference parse_url(const std::string& text) {
  Reference ref;
  ref.kind = Reference::Kind::Url;
  ref.url = text;
  if (const auto hash = text.find('#'); hash != std::string::npos) {
    ref.url = text.substr(0, hash);
    const std::string pin = text.substr(hash + 1);
    std::string hex;
    if (pin.rfind("sha256:", 0) == 0 || pin.rfind("sha256=", 0) == 0) hex = pin.substr(7);
    std::transform(hex.begin(), hex.end(), hex.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!is_hex(hex, 64)) {
      throw FetchError("'" + text +
                       "': after '#' expected a pin sha256:HEX with 64 hex digits, got '" + pin +
                       "'");
    }
    ref.sha256 = hex;
  }
  const std::size_t host_start = ref.url.find("://") + 3;
  const std::size_t path_start = ref.url.find('/', host_start);
  if (path_start == host_start || ref.url.size() == host_start) {
    throw FetchError("'" + text + "' names no host (expected https://HOST/PATH)");
  }
  const std::string path = path_start == std::string::npos
                               ? ""
                               : ref.url.substr(path_start, ref.url.find('?') - path_start);
  if (path.empty() || path.back() == '/') {
    throw FetchError("'" + text + "' names no file (expected https://HOST/PATH/FILE)");
  }
  if (std::any_of(ref.url.begin(), ref.url.end(),
                  [](unsigned char c) { return std::isspace(c) || std::iscntrl(c); })) {
    throw FetchError("'" + text + "': a URL cannot hold spaces or control characters (write %20)");
  }
  return ref;
}

}  // namespace

bool is_commit_hash(const std::string& text) { return is_hex(text, 40); }

bool is_reference(const std::string& text) {
  return text.rfind("hf://", 0) == 0 || text.rfind("https://", 0) == 0 ||
         text.rfind("http://", 0) == 0;
}

Reference parse_reference(const std::string& text) {
  if (text.rfind("hf://", 0) == 0) return parse_hub(text);
  if (text.rfind("https://", 0) == 0 || text.rfind("http://", 0) == 0) return parse_url(text);
  throw FetchError("'" + text + "' is not a reference (expected " + std::string(kHubSyntax) +
                   ", or https://HOST/PATH[#sha256:HEX])");
}

std::string Reference::to_string() const {
  if (kind == Kind::Url) return sha256.empty() ? url : url + "#sha256:" + sha256;
  return std::string("hf://") + (repo_type == RepoType::Dataset ? "datasets/" : "") + repo_id +
         "/" + path + "@" + revision;
}

}  // namespace othrun::fetch
