// Parsing references and reading the huggingface_hub environment variables.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fetch/download_progress.hpp"
#include "fetch/reference.hpp"
#include "fetch/settings.hpp"

namespace othrun::fetch {
namespace {

TEST(Reference, ModelFileWithAndWithoutRevision) {
  const Reference a =
      parse_reference("hf://NeelNanda/Othello-GPT-Transformer-Lens/synthetic_model.pth");
  EXPECT_EQ(a.kind, Reference::Kind::Hub);
  EXPECT_EQ(a.repo_type, RepoType::Model);
  EXPECT_EQ(a.repo_id, "NeelNanda/Othello-GPT-Transformer-Lens");
  EXPECT_EQ(a.path, "synthetic_model.pth");
  EXPECT_EQ(a.revision, "main");
  EXPECT_EQ(a.to_string(), "hf://NeelNanda/Othello-GPT-Transformer-Lens/synthetic_model.pth@main");

  const Reference b = parse_reference("hf://org/repo/sub/dir/w.safetensors@v1.0");
  EXPECT_EQ(b.path, "sub/dir/w.safetensors");
  EXPECT_EQ(b.revision, "v1.0");
}

TEST(Reference, DatasetsAndTheFileSystemForm) {
  const Reference a = parse_reference("hf://datasets/org/games/board_seqs.npy");
  EXPECT_EQ(a.repo_type, RepoType::Dataset);
  EXPECT_EQ(a.repo_id, "org/games");
  EXPECT_EQ(a.to_string(), "hf://datasets/org/games/board_seqs.npy@main");
  // huggingface_hub's HfFileSystem writes the revision after the repository.
  const Reference b = parse_reference("hf://datasets/org/games@refs%2Fpr%2F3/x/board_seqs.npy");
  EXPECT_EQ(b.revision, "refs/pr/3");
  EXPECT_EQ(b.path, "x/board_seqs.npy");
  // A path holding '@' keeps it when a revision follows.
  EXPECT_EQ(parse_reference("hf://o/r/a@b.txt@main").path, "a@b.txt");
}

TEST(Reference, UrlsAndPins) {
  const std::string hex(64, 'a');
  const Reference a = parse_reference("https://example.org/files/probe.pth#sha256:" + hex);
  EXPECT_EQ(a.kind, Reference::Kind::Url);
  EXPECT_EQ(a.url, "https://example.org/files/probe.pth");
  EXPECT_EQ(a.sha256, hex);
  EXPECT_EQ(parse_reference("https://example.org/p.pth#sha256=" + std::string(64, 'B')).sha256,
            std::string(64, 'b'));
  EXPECT_TRUE(parse_reference("https://example.org/p.pth").sha256.empty());
}

void expect_refused(const std::string& text, const std::string& says) {
  try {
    parse_reference(text);
    ADD_FAILURE() << text << " was accepted";
  } catch (const FetchError& error) {
    EXPECT_NE(std::string(error.what()).find(says), std::string::npos)
        << text << " -> " << error.what();
  }
}

TEST(Reference, BadSyntaxSaysWhatIsExpected) {
  expect_refused("hf://org/repo", "names no file");
  expect_refused("hf://org", "names no file");
  expect_refused("hf://org/repo/", "names no file in the repository");
  expect_refused("hf://org/re po/f.pth", "not a valid repository name");
  expect_refused("hf://-org/repo/f.pth", "not a valid organisation");
  expect_refused("hf://org/a--b/f.pth", "not a valid repository name");
  expect_refused("hf://org/repo/../etc/passwd", "without empty, '.' or '..' parts");
  expect_refused("hf://org/repo//f.pth", "without empty");
  expect_refused("hf://org/repo/f.pth@", "is not a revision");
  expect_refused("hf://org/repo/f.pth@a b", "is not a revision");
  expect_refused("hf://org/repo/f.pth#x", "takes no '#'");
  expect_refused("hf://spaces/org/app/f.py", "Spaces are not supported");
  expect_refused("https://example.org/f.pth#sha256:abc", "64 hex digits");
  expect_refused("https://example.org/f.pth#md5:" + std::string(32, 'a'), "sha256:HEX");
  expect_refused("https:///f.pth", "names no host");
  expect_refused("https://example.org", "names no file");
  expect_refused("https://example.org/dir/", "names no file");
  expect_refused("ftp://example.org/f", "not a reference");
}

TEST(Reference, WhatCountsAsAReference) {
  EXPECT_TRUE(is_reference("hf://o/r/f"));
  EXPECT_TRUE(is_reference("https://x/y"));
  EXPECT_TRUE(is_reference("http://x/y"));
  EXPECT_FALSE(is_reference("models/hf/x.pth"));
  EXPECT_FALSE(is_reference(::testing::TempDir() + "hf://x"));  // an absolute path containing hf://
  EXPECT_TRUE(is_commit_hash(std::string(40, 'f')));
  EXPECT_FALSE(is_commit_hash(std::string(40, 'F')));
  EXPECT_FALSE(is_commit_hash("main"));
}

TEST(DownloadProgress, SizesAndTimesReadLikeTheHubs) {
  EXPECT_EQ(human_bytes(17), "17 B");
  EXPECT_EQ(human_bytes(312'000), "312.0 kB");
  EXPECT_EQ(human_bytes(6'543'210), "6.5 MB");
  EXPECT_EQ(human_bytes(1.5e9), "1.5 GB");
  EXPECT_EQ(human_duration(65), "1:05");
  EXPECT_EQ(human_duration(3723.4), "1:02:03");
}

// Sets environment variables for one test and restores them after.
class Environment {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~Environment() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(Settings, HuggingFaceHubDefaultsAndOverrides) {
  Environment env;
  for (const char* name :
       {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT",
        "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "OTHRUN_CACHE",
        "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT", "OTHRUN_FETCH_RETRIES"}) {
    env.set(name, nullptr);
  }
  // Made-up folders under the test's temporary folder (never created: nothing is read there).
  const std::filesystem::path base =
      std::filesystem::path(::testing::TempDir()) / "othrun-settings";
  const std::string home = (base / "home").string();
  const std::string xdg = (base / "xdg").string();
  const std::string hub = (base / "hub").string();
  env.set("HOME", home.c_str());
  Settings s = settings_from_environment();
  EXPECT_EQ(s.hub_cache, home + "/.cache/huggingface/hub");
  EXPECT_EQ(s.url_cache, home + "/.cache/othrun/url");
  EXPECT_EQ(s.endpoint, "https://huggingface.co");
  EXPECT_FALSE(s.offline);
  EXPECT_TRUE(s.token.empty());  // no HOME/.cache/huggingface/token

  env.set("XDG_CACHE_HOME", xdg.c_str());
  EXPECT_EQ(settings_from_environment().hub_cache, xdg + "/huggingface/hub");
  env.set("HF_HOME", "~/hf");
  EXPECT_EQ(settings_from_environment().hub_cache, home + "/hf/hub");
  env.set("HF_HUB_CACHE", hub.c_str());
  env.set("HF_ENDPOINT", "http://mirror.local:8080/");
  env.set("HF_TOKEN", "hf_abc");
  env.set("HF_HUB_OFFLINE", "yes");
  env.set("HF_HUB_DOWNLOAD_TIMEOUT", "30");
  s = settings_from_environment();
  EXPECT_EQ(s.hub_cache, hub);
  EXPECT_EQ(s.endpoint, "http://mirror.local:8080");
  EXPECT_EQ(s.token, "hf_abc");
  EXPECT_TRUE(s.offline);
  EXPECT_EQ(s.download_timeout_s, 30);
  env.set("HF_HUB_OFFLINE", "0");
  EXPECT_FALSE(settings_from_environment().offline);

  // The token `huggingface-cli login` saved, when HF_TOKEN is not set.
  const std::string hf_home = ::testing::TempDir() + "othrun-fetch-token";
  std::filesystem::create_directories(hf_home);
  std::ofstream(hf_home + "/token") << "hf_saved\n";
  env.set("HF_TOKEN", nullptr);
  env.set("HF_HOME", hf_home.c_str());
  EXPECT_EQ(settings_from_environment().token, "hf_saved");
  env.set("HF_TOKEN_PATH", (hf_home + "/none").c_str());
  EXPECT_EQ(settings_from_environment().token, "");
  std::filesystem::remove_all(hf_home);

  env.set("HF_HUB_ETAG_TIMEOUT", "soon");
  EXPECT_THROW(settings_from_environment(), FetchError);
  env.set("HF_HUB_ETAG_TIMEOUT", nullptr);
  env.set("HF_ENDPOINT", "huggingface.co");
  EXPECT_THROW(settings_from_environment(), FetchError);
}

}  // namespace
}  // namespace othrun::fetch
