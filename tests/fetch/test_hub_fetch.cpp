// Downloads from the fake Hub into the huggingface_hub cache layout, file by file.
#include <sys/stat.h>

#include "hub_fixture.hpp"

namespace fs = std::filesystem;

namespace othrun::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(HubTest, LfsFileLandsInTheHubCacheLayout) {
  const fetch::Fetched got = get("hf://org/model/weights.pth");
  EXPECT_EQ(got.commit, commit);
  EXPECT_EQ(got.sha256, weights_sha);
  EXPECT_EQ(got.reference, "hf://org/model/weights.pth@main");
  const fs::path snapshot = repo_dir() / "snapshots" / commit / "weights.pth";
  EXPECT_EQ(got.path, snapshot);
  // refs/main holds the bare commit hash, as huggingface_hub writes it.
  EXPECT_EQ(read_bytes(repo_dir() / "refs" / "main"), commit);
  // The blob is named by the LFS sha256 and holds the bytes; the snapshot is a relative link.
  EXPECT_EQ(read_bytes(repo_dir() / "blobs" / weights_sha), weights);
  ASSERT_TRUE(fs::is_symlink(snapshot));
  EXPECT_EQ(fs::read_symlink(snapshot), fs::path("../../blobs") / weights_sha);
  EXPECT_EQ(read_bytes(snapshot), weights);
  EXPECT_TRUE(
      fs::exists(settings.hub_cache / ".locks" / "models--org--model" / (weights_sha + ".lock")));
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / (weights_sha + ".incomplete")));
  // Exactly: what the Hub says (HEAD, not followed), then the bytes from the CDN.
  const auto requests = hub->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[0].path, "/org/model/resolve/main/weights.pth");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].path, "/cdn/" + weights_sha + "?expires=1");
  EXPECT_EQ(requests[1].range, "");
}

TEST_F(HubTest, GitFileInASubfolderIsNamedByItsGitBlobId) {
  const fetch::Fetched got = get("hf://org/model/sub/dir/config.json");
  // git's blob id of the content: sha1("blob 16\0" + content), what `git hash-object` prints.
  const std::string etag = "fed58a99cf36b755581d1490d6863d5bd1dab4c0";  // git hash-object
  const fs::path snapshot = repo_dir() / "snapshots" / commit / "sub" / "dir" / "config.json";
  EXPECT_EQ(got.path, snapshot);
  EXPECT_EQ(got.sha256, sha256_hex(config));  // hashed here: a git ETag is no sha256
  ASSERT_TRUE(fs::is_symlink(snapshot));
  const fs::path target = fs::read_symlink(snapshot);
  EXPECT_EQ(target.parent_path(), fs::path("../../../../blobs"));
  EXPECT_EQ(target.filename(), etag);
  EXPECT_EQ(read_bytes(repo_dir() / "blobs" / etag), config);
  EXPECT_EQ(hub->count("GET", "/cdn/"), 0);
  EXPECT_EQ(hub->count("GET", "/org/model/resolve/main/sub/dir/config.json"), 1);
}

TEST_F(HubTest, DatasetRepositoriesHaveTheirOwnFolderAndUrl) {
  spec["repos"]["dataset/org/games"] = spec["repos"]["model/org/model"];
  hub->set_spec(spec);
  const fetch::Fetched got = get("hf://datasets/org/games/weights.pth@main");
  EXPECT_EQ(got.path,
            settings.hub_cache / "datasets--org--games" / "snapshots" / commit / "weights.pth");
  EXPECT_EQ(read_bytes(got.path), weights);
  EXPECT_EQ(hub->count("HEAD", "/datasets/org/games/resolve/main/weights.pth"), 1);
}

// A cache that huggingface_hub filled, built here file by file as it lays it out.
void place_python_cache(const fs::path& hub_cache, const std::string& commit,
                        const std::string& sha, const std::string& bytes) {
  const fs::path repo = hub_cache / "models--org--model";
  write_bytes(repo / "blobs" / sha, bytes);
  write_bytes(repo / "refs" / "main", commit);
  fs::create_directories(repo / "snapshots" / commit);
  fs::create_symlink(fs::path("../../blobs") / sha, repo / "snapshots" / commit / "weights.pth");
}

TEST_F(HubTest, FileCachedByPythonIsUsedWithoutDownloading) {
  place_python_cache(settings.hub_cache, commit, weights_sha, weights);
  // A commit hash never moves: no request at all.
  fetch::Fetched got = get("hf://org/model/weights.pth@" + commit);
  EXPECT_EQ(got.path, repo_dir() / "snapshots" / commit / "weights.pth");
  EXPECT_EQ(got.sha256, weights_sha);
  EXPECT_TRUE(hub->requests().empty());
  // A branch is asked where it points (one HEAD, like hf_hub_download), the bytes are not fetched.
  got = get("hf://org/model/weights.pth");
  EXPECT_EQ(got.commit, commit);
  EXPECT_EQ(hub->count("HEAD"), 1);
  EXPECT_EQ(hub->count("GET"), 0);
  // Without the network (or the Hub) the cache answers from refs/main.
  settings.offline = true;
  EXPECT_EQ(get("hf://org/model/weights.pth").path, got.path);
  EXPECT_EQ(hub->requests().size(), 1u);
}

TEST_F(HubTest, MovedBranchResolvesToTheNewCommit) {
  const fetch::Fetched first = get("hf://org/model/weights.pth");
  const std::string moved = commit_hash(2);
  const std::string new_weights = pattern_bytes(5000, 2);
  write_bytes(dir / "content" / "weights2.pth", new_weights);
  spec["repos"]["model/org/model"]["refs"]["main"] = moved;
  spec["repos"]["model/org/model"]["commits"][moved]["weights.pth"] = {
      {"file", (dir / "content" / "weights2.pth").string()}, {"lfs", true}};
  hub->set_spec(spec);
  const fetch::Fetched second = get("hf://org/model/weights.pth");
  EXPECT_EQ(second.commit, moved);
  EXPECT_EQ(second.sha256, sha256_hex(new_weights));
  EXPECT_EQ(read_bytes(repo_dir() / "refs" / "main"), moved);
  EXPECT_EQ(read_bytes(second.path), new_weights);
  EXPECT_EQ(read_bytes(first.path), weights);  // the old snapshot stays, as in Python's cache
  // Asking for the old commit by hash needs no request.
  hub->clear_log();
  EXPECT_EQ(get("hf://org/model/weights.pth@" + commit).sha256, weights_sha);
  EXPECT_TRUE(hub->requests().empty());
}

TEST_F(HubTest, SameContentAtANewCommitIsLinkedNotDownloaded) {
  get("hf://org/model/weights.pth");
  const std::string moved = commit_hash(3);
  spec["repos"]["model/org/model"]["refs"]["main"] = moved;
  spec["repos"]["model/org/model"]["commits"][moved] =
      spec["repos"]["model/org/model"]["commits"][commit];
  hub->set_spec(spec);
  hub->clear_log();
  const fetch::Fetched got = get("hf://org/model/weights.pth");
  EXPECT_EQ(got.commit, moved);
  EXPECT_EQ(fs::read_symlink(got.path), fs::path("../../blobs") / weights_sha);
  EXPECT_EQ(hub->count("GET"), 0);
}

TEST_F(HubTest, RenamedRepositoryRedirectIsFollowed) {
  spec["renamed"]["model/org/old-name"] = "org/model";
  hub->set_spec(spec);
  const fetch::Fetched got = get("hf://org/old-name/weights.pth");
  EXPECT_EQ(read_bytes(got.path), weights);
  EXPECT_EQ(hub->count("HEAD", "/org/old-name/"), 1);
  EXPECT_EQ(hub->count("HEAD", "/org/model/"), 1);
}

TEST_F(HubTest, InterruptedDownloadResumesWithARangeRequest) {
  spec["behaviour"][weights_sha] = {{"cut_after", 70'000}, {"cut_times", 1}};
  hub->set_spec(spec);
  const fetch::Fetched got = get("hf://org/model/weights.pth");
  EXPECT_EQ(read_bytes(got.path), weights);
  std::vector<std::string> ranges;
  for (const auto& r : hub->requests()) {
    if (r.method == "GET") ranges.push_back(r.range);
  }
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=70000-");  // only the missing part
}

TEST_F(HubTest, PartialFileOfAnEarlierRunIsResumed) {
  write_bytes(repo_dir() / "blobs" / (weights_sha + ".incomplete"), weights.substr(0, 12'345));
  const fetch::Fetched got = get("hf://org/model/weights.pth");
  EXPECT_EQ(read_bytes(got.path), weights);
  ASSERT_EQ(hub->count("GET", "/cdn/"), 1);
  EXPECT_EQ(hub->requests().back().range, "bytes=12345-");
}

TEST_F(HubTest, ServerIgnoringRangeGetsTheWholeFileAgain) {
  write_bytes(repo_dir() / "blobs" / (weights_sha + ".incomplete"), weights.substr(0, 999));
  spec["behaviour"][weights_sha] = {{"ignore_range", true}};
  hub->set_spec(spec);
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);
}

TEST_F(HubTest, CorruptPartialFileIsCaughtBySha256AndRemoved) {
  std::string wrong = weights.substr(0, 1000);
  wrong[10] ^= 0x55;
  const fs::path partial = repo_dir() / "blobs" / (weights_sha + ".incomplete");
  write_bytes(partial, wrong);
  const std::string message = error_of("hf://org/model/weights.pth");
  EXPECT_THAT(message, HasSubstr("sha256 is"));
  EXPECT_THAT(message, HasSubstr("but the Hub says " + weights_sha));
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / weights_sha));
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);  // the next try works
}

TEST_F(HubTest, SlowBodyIsReceivedWhole) {
  spec["behaviour"][weights_sha] = {{"chunk", 20'000}, {"chunk_delay", 0.05}};
  hub->set_spec(spec);
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);
  EXPECT_EQ(hub->count("GET", "/cdn/"), 1);
}

TEST_F(HubTest, StalledBodyTimesOutAndResumes) {
  // Half the file, then 4 s of silence: the 1 s timeout (checked about once a second) ends it.
  spec["behaviour"][weights_sha] = {{"chunk", 100'000}, {"chunk_delay", 4.0}};
  hub->set_spec(spec);
  settings.download_timeout_s = 1;
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);
  std::vector<std::string> ranges;
  for (const auto& r : hub->requests()) {
    if (r.method == "GET") ranges.push_back(r.range);
  }
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[1], "bytes=100000-");
}

}  // namespace
}  // namespace othrun::testing
