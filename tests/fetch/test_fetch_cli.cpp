// `othrun fetch`, two processes fetching one file, and experiments naming files by reference:
// --check, the run, provenance and a moved branch.
#include <fstream>

#include <othrun/store.hpp>

#include "hub_fixture.hpp"

namespace fs = std::filesystem;

namespace othrun::testing {
namespace {

using ::testing::HasSubstr;

class CliTest : public HubTest {
 protected:
  // The environment that points othrun at the fake Hub and this test's caches.
  std::string env(bool offline = false) const {
    return "HF_HUB_CACHE=" + shell_quote(settings.hub_cache.string()) +
           " OTHRUN_CACHE=" + shell_quote((dir / "othrun-cache").string()) +
           " HF_ENDPOINT=" + hub->endpoint() + " HF_TOKEN= HF_TOKEN_PATH=/nonexistent" +
           " HF_HUB_OFFLINE=" + (offline ? "1" : "0") + " ";
  }
  CommandResult othrun(const std::string& arguments, bool offline = false) const {
    return run_command(env(offline) + OTHRUN_EXE + " --plugin-path " + OTHRUN_PLUGIN_DIR + " " +
                       arguments);
  }
  CommandResult othrun_fetch(const std::string& arguments) const {
    return run_command(env() + OTHRUN_EXE + " fetch " + arguments);
  }
};

TEST_F(CliTest, FetchPrintsTheLocalFiles) {
  const CommandResult result =
      othrun_fetch("hf://org/model/weights.pth hf://org/model/sub/dir/config.json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, (repo_dir() / "snapshots" / commit / "weights.pth").string() + "\n" +
                            (repo_dir() / "snapshots" / commit / "sub/dir/config.json").string() +
                            "\n");
  EXPECT_THAT(result.err, HasSubstr("commit " + commit + ", sha256 " + weights_sha));
  EXPECT_EQ(othrun_fetch("--cached hf://org/model/weights.pth").exit_code, 0);
}

TEST_F(CliTest, SystemReportNamesTheHttpLibrary) {
  const CommandResult result = othrun("--system");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\nfetch: libcurl/"));
}

TEST_F(CliTest, FetchErrorsHaveExitCodes) {
  CommandResult result = othrun_fetch("hf://org/model");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("names no file"));
  result = othrun_fetch("hf://org/model/missing.pth hf://org/model/weights.pth");
  EXPECT_EQ(result.exit_code, 1);  // the second is still fetched
  EXPECT_THAT(result.err, HasSubstr("no file 'missing.pth'"));
  EXPECT_THAT(result.out, HasSubstr("weights.pth"));
  result = othrun_fetch("--cached hf://org/model/sub/dir/config.json");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("not in the cache"));
  EXPECT_EQ(othrun_fetch("").exit_code, 2);
}

TEST_F(CliTest, TwoProcessesFetchingOneFileDownloadItOnce) {
  // A body slow enough (3 s) that the second process arrives while the first downloads.
  spec["behaviour"][weights_sha] = {{"chunk", 20'000}, {"chunk_delay", 0.3}};
  hub->set_spec(spec);
  const std::string one = env() + OTHRUN_EXE + " fetch hf://org/model/weights.pth";
  const fs::path a = dir / "a", b = dir / "b";
  const CommandResult both =
      run_command("(" + one + " >" + a.string() + ".out 2>" + a.string() + ".err; echo $? >" +
                  a.string() + ".rc) & (" + one + " >" + b.string() + ".out 2>" + b.string() +
                  ".err; echo $? >" + b.string() + ".rc) & wait");
  ASSERT_EQ(both.exit_code, 0);
  EXPECT_EQ(read_bytes(a.string() + ".rc"), "0\n") << read_bytes(a.string() + ".err");
  EXPECT_EQ(read_bytes(b.string() + ".rc"), "0\n") << read_bytes(b.string() + ".err");
  const std::string path = (repo_dir() / "snapshots" / commit / "weights.pth").string() + "\n";
  EXPECT_EQ(read_bytes(a.string() + ".out"), path);
  EXPECT_EQ(read_bytes(b.string() + ".out"), path);
  EXPECT_EQ(read_bytes(repo_dir() / "blobs" / weights_sha), weights);
  EXPECT_EQ(hub->count("GET", "/cdn/"), 1);
  EXPECT_EQ(hub->count("HEAD"), 2);
  EXPECT_THAT(read_bytes(a.string() + ".err") + read_bytes(b.string() + ".err"),
              HasSubstr("waiting for another download"));
}

TEST_F(CliTest, InterruptedFetchKeepsThePartialFileAndTheNextResumes) {
  spec["behaviour"][weights_sha] = {{"chunk", 20'000}, {"chunk_delay", 0.3}};
  hub->set_spec(spec);
  const std::string one = env() + OTHRUN_EXE + " fetch hf://org/model/weights.pth";
  // SIGTERM, as Ctrl-C: the transfer stops within a second, the exit code says interrupted.
  const CommandResult stopped =
      run_command("{ (" + one + ") & pid=$!; sleep 1.2; kill -TERM $pid; wait $pid; echo rc=$?; }");
  EXPECT_THAT(stopped.out, HasSubstr("rc=130"));
  EXPECT_THAT(stopped.err, HasSubstr("a partial download is kept"));
  const fs::path partial = repo_dir() / "blobs" / (weights_sha + ".incomplete");
  ASSERT_TRUE(fs::exists(partial));
  const auto kept = fs::file_size(partial);
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, weights.size());
  spec["behaviour"].erase(weights_sha);
  hub->set_spec(spec);
  const CommandResult resumed = othrun_fetch("hf://org/model/weights.pth");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(read_bytes(repo_dir() / "blobs" / weights_sha), weights);
  EXPECT_EQ(hub->requests().back().range, "bytes=" + std::to_string(kept) + "-");
}

// An experiment importing games from a dataset repository.
class ExperimentTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    const fs::path games = fs::path(OTHRUN_SOURCE_DIR) / "tests/fixtures/games/int_i8_v1.npy";
    spec["repos"]["dataset/org/games"] = {
        {"refs", {{"main", commit}}},
        {"commits", {{commit, {{"board_seqs.npy", {{"file", games.string()}, {"lfs", true}}}}}}}};
    hub->set_spec(spec);
    games_sha = sha256_hex(read_bytes(games));
    write_file(dir / "exp.yaml",
               "name: fetched\nstore: runs/fetched.h5\nsteps:\n  - plugin: games\n"
               "    source: npy\n    path: hf://datasets/org/games/board_seqs.npy\n");
  }
  std::string games_sha;
};

TEST_F(ExperimentTest, CheckIsOfflineAndRunFetchesAndRecordsTheCommit) {
  const std::string exp = (dir / "exp.yaml").string();
  CommandResult result = othrun("--check " + exp, /*offline=*/true);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr(exp + ":6: step 'games' (games): 'path': "
                                          "hf://datasets/org/games/board_seqs.npy@main: "
                                          "HF_HUB_OFFLINE is set"));
  result = othrun("--check " + exp);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(
      result.out,
      HasSubstr("not cached, fetched when it runs: hf://datasets/org/games/board_seqs.npy@main"));
  EXPECT_TRUE(hub->requests().empty());  // --check never downloads

  result = othrun(exp);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const fs::path snapshot =
      settings.hub_cache / "datasets--org--games" / "snapshots" / commit / "board_seqs.npy";
  {
    const Store store(dir / "runs" / "fetched.h5");
    const Product product = store.open("games");
    const Attributes attrs = product.root().attrs();
    EXPECT_EQ(attrs.get_strings("othrun.fetched_inputs"),
              std::vector<std::string>{"hf://datasets/org/games/board_seqs.npy@main " + commit +
                                       " " + games_sha});
    EXPECT_THAT(attrs.get_string("othrun.config"), HasSubstr(snapshot.string()));
  }
  result = othrun("--check " + exp, /*offline=*/true);  // cached now
  EXPECT_EQ(result.exit_code, 0) << result.err;

  hub->clear_log();
  result = othrun(exp);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("up to date"));
  EXPECT_EQ(hub->count("HEAD"), 1);  // where main points now
  EXPECT_EQ(hub->count("GET"), 0);

  // main moves to a new commit with the same file: the product is stale, the log says why.
  const std::string moved = commit_hash(9);
  spec["repos"]["dataset/org/games"]["refs"]["main"] = moved;
  spec["repos"]["dataset/org/games"]["commits"][moved] =
      spec["repos"]["dataset/org/games"]["commits"][commit];
  hub->set_spec(spec);
  result = othrun(exp);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err,
              HasSubstr("commit " + commit.substr(0, 12) + " -> " + moved.substr(0, 12)));
  EXPECT_THAT(result.err, HasSubstr("step 'games' (games): running"));
  const Store store(dir / "runs" / "fetched.h5");
  const Product product = store.open("games");
  EXPECT_THAT(product.root().attrs().get_strings("othrun.fetched_inputs").at(0), HasSubstr(moved));
}

TEST_F(ExperimentTest, ReferencesAreRefusedWhereAFileIsWritten) {
  write_file(dir / "bad.yaml",
             "name: bad\nstore: hf://org/model/store.h5\nsteps:\n  - plugin: games\n"
             "    source: npy\n    path: hf://datasets/org/games\n");
  const CommandResult result = othrun("--check " + (dir / "bad.yaml").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("'store' is written here; it cannot be a reference"));
  EXPECT_THAT(result.err, HasSubstr("'path': 'hf://datasets/org/games' names no file"));
}

#ifdef OTHRUN_HAVE_TORCH_PLUGINS
// experiments/l6_sae_public.yaml as shipped, with the Hub's model replaced by this repository's
// (same format, smaller MLP) and the probe and SAEs, which have no public location, by ours.
TEST_F(CliTest, PublicExperimentFetchesTheTransformerLensModelFromTheHub) {
  const fs::path models = fs::path(OTHRUN_SOURCE_DIR) / "models";
  const fs::path model = models / "othello_gpt_default.pth";
  const std::string model_sha = sha256_hex(read_bytes(model));
  spec["repos"]["model/NeelNanda/Othello-GPT-Transformer-Lens"] = {
      {"refs", {{"main", commit}}},
      {"commits",
       {{commit, {{"synthetic_model.pth", {{"file", model.string()}, {"lfs", true}}}}}}}};
  hub->set_spec(spec);
  const std::string sets =
      " --set store=" + (dir / "runs" / "public.h5").string() +
      " --set probe.probe=" + (models / "linear_probe_l6.pth").string() +
      " --set sae_512.sae=" + (models / "sae_l6_resid_pre_512").string() +
      " --set sae_1024.sae=" + (models / "sae_l6_resid_pre_1024").string() +
      " --set sae_2048.sae=" + (models / "sae_l6_resid_pre_256").string() +
      " --set sae_4096.sae=" + (models / "sae_l6_resid_pre_128").string() +
      // The public model's layer-0 MLP has 2048 neurons, ours 512; the SAE steps' loss_games is 50.
      " --set max_act_l0_n774.index=300 --set spectrum_l0_n774.index=300 --set games.games=60";
  const std::string exp = std::string(OTHRUN_SOURCE_DIR) + "/experiments/l6_sae_public.yaml";
  const CommandResult result = othrun(exp + sets);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto requests = hub->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method + " " + requests[0].path,
            "HEAD /NeelNanda/Othello-GPT-Transformer-Lens/resolve/main/synthetic_model.pth");
  EXPECT_EQ(requests[1].method + " " + requests[1].path, "GET /cdn/" + model_sha + "?expires=1");
  const fs::path blob =
      settings.hub_cache / "models--NeelNanda--Othello-GPT-Transformer-Lens" / "blobs" / model_sha;
  EXPECT_EQ(read_bytes(blob), read_bytes(model));
  const Store store(dir / "runs" / "public.h5");
  const Product product = store.open("cache");
  EXPECT_EQ(product.root().attrs().get_strings("othrun.fetched_inputs"),
            std::vector<std::string>{
                "hf://NeelNanda/Othello-GPT-Transformer-Lens/synthetic_model.pth@main " + commit +
                " " + model_sha});
}
#endif

}  // namespace
}  // namespace othrun::testing
