// Failures: 5xx retried then given up, 401/403/404 explained, offline and unreachable Hubs, and
// URLs with their sha256 pins.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "hub_fixture.hpp"

namespace fs = std::filesystem;

namespace othrun::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(HubTest, ServerErrorsAreRetriedUntilTheDownloadWorks) {
  spec["behaviour"][weights_sha] = {{"fail_times", 2}, {"fail_status", 503}};
  spec["behaviour"]["resolve:weights.pth"] = {{"head_fail_times", 1}};
  hub->set_spec(spec);
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);
  EXPECT_EQ(hub->count("HEAD"), 2);
  EXPECT_EQ(hub->count("GET", "/cdn/"), 3);
}

TEST_F(HubTest, TooManyRequestsWaitsAsTheServerAsks) {
  spec["behaviour"][weights_sha] = {{"fail_times", 1}, {"fail_status", 429}, {"retry_after", 1}};
  hub->set_spec(spec);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);
  // Retry-After: 1, not the test settings' 0.05 s back-off.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(hub->count("GET", "/cdn/"), 2);
}

TEST_F(HubTest, PersistentServerErrorGivesUpAfterTheRetries) {
  spec["behaviour"][weights_sha] = {{"fail_times", 1000}, {"fail_status", 500}};
  hub->set_spec(spec);
  settings.retries = 2;
  const std::string message = error_of("hf://org/model/weights.pth");
  EXPECT_THAT(message, HasSubstr("HTTP 500 (Internal Server Error)"));
  EXPECT_THAT(message, HasSubstr("gave up after 2 retries"));
  EXPECT_EQ(hub->count("GET", "/cdn/"), 3);
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / weights_sha));
  EXPECT_FALSE(fs::exists(repo_dir() / "snapshots" / commit / "weights.pth"));
}

TEST_F(HubTest, PrivateRepositoryAsksForAToken) {
  spec["repos"]["model/org/model"]["private"] = true;
  spec["repos"]["model/org/model"]["token"] = "hf_secret";
  hub->set_spec(spec);
  std::string message = error_of("hf://org/model/weights.pth");
  EXPECT_THAT(message, HasSubstr("access denied (HTTP 401 (Unauthorized))"));
  EXPECT_THAT(message, HasSubstr("Set HF_TOKEN"));
  settings.token = "hf_wrong";
  EXPECT_THAT(error_of("hf://org/model/weights.pth"), HasSubstr("token in HF_TOKEN was refused"));
  EXPECT_EQ(hub->count("GET"), 0);  // a refusal is final: no retries
  EXPECT_EQ(hub->count("HEAD"), 2);

  settings.token = "hf_secret";
  hub->clear_log();
  EXPECT_EQ(read_bytes(get("hf://org/model/weights.pth").path), weights);
  const auto requests = hub->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].authorization, "Bearer hf_secret");
  EXPECT_EQ(requests[1].path.rfind("/cdn/", 0), 0u);
  EXPECT_EQ(requests[1].authorization, "");  // the CDN (localhost) is not the endpoint's host
}

TEST_F(HubTest, GatedRepositorySaysWhereToAcceptTheConditions) {
  spec["repos"]["model/org/model"]["gated"] = true;
  hub->set_spec(spec);
  const std::string message = error_of("hf://org/model/weights.pth");
  EXPECT_THAT(message, HasSubstr("org/model is gated"));
  EXPECT_THAT(message, HasSubstr(hub->endpoint() + "/org/model"));
  EXPECT_THAT(message, HasSubstr("HF_TOKEN"));
}

TEST_F(HubTest, NotFoundNamesTheRepositoryRevisionAndPath) {
  EXPECT_THAT(error_of("hf://org/nothing/weights.pth"),
              HasSubstr("no repository org/nothing on " + hub->endpoint()));
  EXPECT_THAT(error_of("hf://org/model/weights.pth@v9"),
              HasSubstr("no revision 'v9' in org/model"));
  EXPECT_THAT(error_of("hf://org/model/missing.pth"),
              HasSubstr("no file 'missing.pth' in org/model at revision 'main'"));
  EXPECT_EQ(hub->count("HEAD"), 3);  // no retries for a 404
}

TEST_F(HubTest, OfflineUsesTheCacheOrSaysItIsNotThere) {
  settings.offline = true;
  const std::string message = error_of("hf://org/model/weights.pth");
  EXPECT_THAT(message, HasSubstr("HF_HUB_OFFLINE is set and the file is not in the cache"));
  EXPECT_THAT(message, HasSubstr(repo_dir().string()));
  EXPECT_TRUE(hub->requests().empty());
  settings.offline = false;
  const fs::path path = get("hf://org/model/weights.pth").path;
  hub->clear_log();
  settings.offline = true;
  EXPECT_EQ(get("hf://org/model/weights.pth").path, path);
  EXPECT_TRUE(hub->requests().empty());
}

// A loopback port with nothing listening.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST_F(HubTest, UnreachableHubFallsBackToTheCache) {
  settings.retries = 1;
  settings.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
  const std::string message = error_of("hf://org/model/weights.pth");
  EXPECT_THAT(message, HasSubstr("cannot reach " + settings.endpoint));
  EXPECT_THAT(message, HasSubstr("not in the cache"));
  const auto online = test_settings(dir.path(), hub->endpoint());
  const fetch::Fetched cached =
      fetch::fetch(fetch::parse_reference("hf://org/model/weights.pth"), online);
  const fetch::Fetched fallback = get("hf://org/model/weights.pth");
  EXPECT_EQ(fallback.path, cached.path);
  EXPECT_EQ(fallback.commit, commit);
}

TEST_F(HubTest, NotAHubSaysSo) {
  write_bytes(dir / "content" / "page.html", "<html></html>");
  spec["urls"]["/org/model/resolve/main/page.html"] = (dir / "content" / "page.html").string();
  hub->set_spec(spec);
  EXPECT_THAT(error_of("hf://org/model/page.html"), HasSubstr("has no X-Repo-Commit header"));
}

class UrlTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    write_bytes(dir / "content" / "probe.pth", probe);
    spec["urls"]["/files/probe.pth"] = (dir / "content" / "probe.pth").string();
    hub->set_spec(spec);
    url = hub->endpoint() + "/files/probe.pth";
  }
  const std::string probe = pattern_bytes(30'000, 7);
  std::string url;
};

TEST_F(UrlTest, PinnedUrlIsVerifiedCachedAndNotAskedAgain) {
  const std::string pin = sha256_hex(probe);
  const fetch::Fetched got = get(url + "#sha256:" + pin);
  EXPECT_EQ(got.sha256, pin);
  EXPECT_TRUE(got.commit.empty());
  EXPECT_EQ(got.path.filename(), "probe.pth");
  EXPECT_EQ(got.path.parent_path().parent_path(), settings.url_cache);
  EXPECT_EQ(read_bytes(got.path), probe);
  EXPECT_EQ(read_bytes(got.path.string() + ".sha256"), pin + "  probe.pth\n");
  EXPECT_EQ(read_bytes(got.path.parent_path() / "url"), url + "\n");
  EXPECT_EQ(get(url).path, got.path);  // unpinned: the cached copy
  EXPECT_EQ(hub->count("GET"), 1);
}

TEST_F(UrlTest, WrongPinIsRefusedAndNothingIsKept) {
  const std::string wrong(64, '0');
  const std::string message = error_of(url + "#sha256:" + wrong);
  EXPECT_THAT(message, HasSubstr("not the pinned " + wrong));
  EXPECT_THAT(message, HasSubstr(sha256_hex(probe)));
  EXPECT_FALSE(fetch::find_cached(fetch::parse_reference(url), settings));
}

TEST_F(UrlTest, CutUrlDownloadResumesAndErrorsAreReported) {
  spec["behaviour"]["/files/probe.pth"] = {{"cut_after", 10'000}};
  hub->set_spec(spec);
  EXPECT_EQ(read_bytes(get(url).path), probe);
  EXPECT_EQ(hub->requests().back().range, "bytes=10000-");
  EXPECT_THAT(error_of(hub->endpoint() + "/files/absent.pth"),
              HasSubstr("HTTP 404 (Not Found) from " + hub->endpoint() + "/files/absent.pth"));
  settings.offline = true;
  EXPECT_THAT(error_of(hub->endpoint() + "/files/other.pth"), HasSubstr("HF_HUB_OFFLINE is set"));
}

}  // namespace
}  // namespace othrun::testing
