// The dashboard plugin end to end on the shipped model, SAE and probe (a small experiment): its
// numbers and page data against a numpy recomputation from the store (check_dashboard.py), the
// pages in headless Chromium (no console output, every plot drawn, size and render time bounded;
// screenshots in <build>/test-output/dashboard/), and its configuration errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"

namespace fs = std::filesystem;
using othrun::testing::read_text;
using othrun::testing::run_command;
using othrun::testing::run_othrun;
using othrun::testing::shell_quote;
using othrun::testing::TempDir;

namespace {

const fs::path kSource = OTHRUN_SOURCE_DIR;
const fs::path kModels = kSource / "models";

// 40 games through the shipped model; an SAE dashboard with every input, a neuron dashboard
// computing its own board-state statistics, and a probe-direction one without logits or model.
std::string experiment(const fs::path& store) {
  const std::string model = (kModels / "othello_gpt_default.pth").string();
  const std::string sae = (kModels / "sae_l6_resid_pre_128").string();
  const std::string probe = (kModels / "linear_probe_l6.pth").string();
  return "name: dash\nstore: " + store.string() + "\nseed: 3\nsteps:\n" +
         "  - {plugin: games, label: games, source: synthetic, games: 40, full_games_only: true}\n"
         "  - plugin: inference\n    label: cache\n    games: games\n    model: " +
         model + "\n" +
         "    hooks: [blocks.0.mlp.hook_post, blocks.6.hook_resid_pre, blocks.6.hook_resid_post]\n"
         "    logits: log_probs\n    board_moves: 0\n"
         "  - {plugin: sae_encode, label: sae, activations: 'cache:blocks.6.hook_resid_pre', "
         "sae: " +
         sae + "}\n" +
         "  - {plugin: sae_correlation, label: corr, games: games, features: sae}\n"
         "  - plugin: dashboard\n    label: dash_sae\n    unit: feature\n    features: sae\n"
         "    correlation: corr\n    logits: 'cache:log_probs'\n    sae: " +
         sae + "\n" + "    model: " + model + "\n    probe: " + probe + "\n" +
         "  - {plugin: dashboard, label: dash_sae_own, unit: feature, features: sae}\n"
         "  - plugin: dashboard\n    label: dash_l0\n    unit: neuron\n"
         "    activations: 'cache:blocks.0.mlp.hook_post'\n    logits: 'cache:log_probs'\n"
         "    model: " +
         model + "\n    probe: " + probe + "\n" +
         "  - plugin: dashboard\n    label: dash_probe\n    unit: probe\n"
         "    activations: 'cache:blocks.6.hook_resid_post'\n    probe: " +
         probe + "\n";
}

class DashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    store_ = *dir_ / "runs" / "dash.h5";
    othrun::testing::write_file(*dir_ / "dash.yaml", experiment(store_));
    run_ =
        new othrun::testing::CommandResult(run_othrun(shell_quote((*dir_ / "dash.yaml").string())));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete dir_;
  }
  static fs::path pages(const std::string& label) {
    return store_.parent_path() / "dash.d" / "dashboards" / label;
  }
  void SetUp() override { ASSERT_EQ(run_->exit_code, 0) << run_->out << run_->err; }

  static TempDir* dir_;
  static fs::path store_;
  static othrun::testing::CommandResult* run_;
};
TempDir* DashboardTest::dir_ = nullptr;
fs::path DashboardTest::store_;
othrun::testing::CommandResult* DashboardTest::run_ = nullptr;

void python_check(const fs::path& store, const std::string& args) {
  const auto r =
      run_command(std::string(OTHRUN_PYTHON3) + " " +
                  shell_quote((kSource / "tests/dashboard/check_dashboard.py").string()) + " " +
                  shell_quote(store.string()) + " " + args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK "), std::string::npos) << r.out << r.err;
}

// One headless Chromium run on `url` (a file path, "#..." allowed), isolated in its own profile,
// with virtual time so the page's scripts finish first (as tests/report does).
othrun::testing::CommandResult run_chromium(const fs::path& profile, const std::string& action,
                                            const std::string& url) {
  return run_command(
      "timeout 120 " + shell_quote(OTHRUN_CHROMIUM) +
      " --headless --no-sandbox --disable-gpu --disable-background-networking"
      " --disable-component-update --disable-sync --no-first-run --disable-quic"
      " --disable-dev-shm-usage --enable-logging=stderr --v=0 --virtual-time-budget=20000"
      " --user-data-dir=" +
      shell_quote(profile.string()) + " " + action + " " + shell_quote("file://" + url));
}

std::string attr(const std::string& dom, const std::string& name) {
  const std::regex pattern("<body[^>]*" + name + "=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(dom, m, pattern) ? m[1].str() : "";
}

// Opens `page` (a path, with "#unit" for a unit view), requires a clean render with every plot
// drawn, and saves a screenshot as test-output/dashboard/<shot>.png. Returns the plots drawn.
int expect_page_renders(const fs::path& folder, const std::string& page, const std::string& shot,
                        const fs::path& profiles) {
  const std::string url = (folder / page).string();
  const auto dumped = run_chromium(profiles / ("dom-" + shot), "--dump-dom", url);
  EXPECT_EQ(dumped.exit_code, 0) << dumped.err;
  const std::string& dom = dumped.out;
  EXPECT_EQ(attr(dom, "data-render-state"), "done") << page << "\n" << dom.substr(0, 3000);
  // Chromium logs every console message of the page as a CONSOLE line; the pages log none.
  EXPECT_EQ(dumped.err.find("CONSOLE"), std::string::npos) << dumped.err;
  EXPECT_EQ(dom.find("id=\"errors\" class=\"errors\">"), std::string::npos) << "error box shown";
  // Every SVG plot has drawn elements (data-drawn = its element count).
  int plots = 0;
  const std::regex svg("<svg class=\"plot\"[^>]*data-drawn=\"(\\d+)\"");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), svg); it != std::sregex_iterator();
       ++it) {
    EXPECT_GT(std::stoi((*it)[1].str()), 3) << page << ": an empty plot";
    ++plots;
  }
  const std::string declared = attr(dom, "data-plots");
  EXPECT_EQ(declared, std::to_string(plots)) << page << ": plots without data-drawn";
  const std::string ms = attr(dom, "data-render-ms");
  EXPECT_FALSE(ms.empty());
  // Rendering one page takes ~50 ms here; 3 s allows a slow, loaded machine.
  if (!ms.empty()) {
    EXPECT_LT(std::stoi(ms), 3000) << page;
  }

  const fs::path out = fs::path(OTHRUN_DASHBOARD_TEST_OUTPUT) / (shot + ".png");
  fs::create_directories(out.parent_path());
  fs::remove(out);
  const auto taken = run_chromium(
      profiles / ("shot-" + shot),
      "--window-size=1200,2400 --hide-scrollbars --screenshot=" + shell_quote(out.string()), url);
  EXPECT_EQ(taken.exit_code, 0) << taken.err;
  EXPECT_TRUE(fs::exists(out));
  if (fs::exists(out)) {
    EXPECT_GT(fs::file_size(out), 30000u) << out << " looks empty";
  }
  return plots;
}

std::uint64_t folder_bytes(const fs::path& folder) {
  std::uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

}  // namespace

TEST_F(DashboardTest, NumbersMatchNumpyRecomputation) {
  const std::string m = shell_quote((kModels / "othello_gpt_default.pth").string());
  const std::string s = shell_quote((kModels / "sae_l6_resid_pre_128").string());
  const std::string p = shell_quote((kModels / "linear_probe_l6.pth").string());
  python_check(store_,
               "dash_sae --unit feature --source sae --correlation corr --logits "
               "cache:log_probs --sae " +
                   s + " --model " + m + " --probe " + p);
  python_check(store_,
               "dash_l0 --unit neuron --source cache:blocks.0.mlp.hook_post --logits "
               "cache:log_probs --model " +
                   m + " --probe " + p);
  python_check(store_,
               "dash_probe --unit probe --source cache:blocks.6.hook_resid_post --probe " + p);
}

TEST_F(DashboardTest, ProductRecordsWhereThePagesAre) {
  othrun::Store store(store_);
  const othrun::Product sae = store.open("dash_sae");
  EXPECT_EQ(sae.root().attrs().get_string("dashboard_index"), "dashboards/dash_sae/index.html");
  EXPECT_EQ(sae.root().attrs().get_int("units"), 128);
  EXPECT_TRUE(fs::exists(pages("dash_sae") / "index.html"));
  EXPECT_TRUE(fs::exists(pages("dash_sae") / "data" / "u" / "7.js"));  // units 112..127
  EXPECT_FALSE(fs::exists(pages("dash_sae") / "data" / "u" / "8.js"));
  EXPECT_FALSE(fs::exists(pages("dash_sae").string() + ".partial"));
  // The pages link back to the experiment's report, which exists after the run.
  const std::string sae_meta = read_text(pages("dash_sae") / "data" / "meta.js");
  EXPECT_NE(sae_meta.find("\"report\":\"../../../dash.report.html\""), std::string::npos);
  EXPECT_TRUE(fs::exists(pages("dash_sae") / "../../../dash.report.html"));
  // Without logits or a model, the probe dashboard says so instead of drawing nothing.
  const std::string meta = read_text(pages("dash_probe") / "data" / "meta.js");
  EXPECT_NE(meta.find("no next-move distribution"), std::string::npos) << meta;
  EXPECT_NE(meta.find("no `model:` was given"), std::string::npos) << meta;
  EXPECT_FALSE(store.open("dash_probe").root().contains("direct_effect"));
}

TEST_F(DashboardTest, RerunIsUpToDateAndKeepsThePages) {
  const auto again = run_othrun(shell_quote((*dir_ / "dash.yaml").string()));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE((again.out + again.err).find("dash_sae"), std::string::npos);
  EXPECT_TRUE(fs::exists(pages("dash_sae") / "data" / "index.js"));
}

TEST_F(DashboardTest, PagesRenderInChromium) {
  if (std::string(OTHRUN_CHROMIUM).empty()) GTEST_SKIP() << "chromium not found";
  TempDir profiles;
  EXPECT_EQ(expect_page_renders(pages("dash_sae"), "index.html", "sae_index", profiles.path()), 1);
  // One unit view of each kind: histogram, 3 "what it writes" boards, 3 plots per example.
  EXPECT_GE(expect_page_renders(pages("dash_sae"), "unit.html#5", "sae_feature_5", profiles.path()),
            1 + 3 + 3 * 10);
  EXPECT_GE(
      expect_page_renders(pages("dash_l0"), "unit.html#345", "l0_neuron_345", profiles.path()),
      1 + 3 + 3 * 10);
  // The probe dashboard has no logits: boards and sparklines only (2 per example), 2 cosines.
  EXPECT_GE(expect_page_renders(pages("dash_probe"), "unit.html#28", "probe_D4", profiles.path()),
            1 + 2 + 2 * 10);
  // Size: the index page with its data is small; one unit's data is loaded per view.
  const std::uint64_t index_bytes = fs::file_size(pages("dash_sae") / "index.html") +
                                    fs::file_size(pages("dash_sae") / "dashboard.js") +
                                    fs::file_size(pages("dash_sae") / "data" / "index.js");
  EXPECT_LT(index_bytes, 200u * 1024) << "the index of 128 units";
  for (const auto& e : fs::directory_iterator(pages("dash_l0") / "data" / "u"))
    EXPECT_LT(e.file_size(), 16u * 64 * 1024) << e.path() << ": over 64 KB per unit";
  std::cout << "pages: dash_sae " << folder_bytes(pages("dash_sae")) << " bytes, dash_l0 "
            << folder_bytes(pages("dash_l0")) << " bytes; screenshots in "
            << OTHRUN_DASHBOARD_TEST_OUTPUT << "\n";
}

// Files that do not match the units are refused, naming them; the store keeps what it had.
TEST_F(DashboardTest, MismatchedFilesAreRefused) {
  const std::string sae256 = (kModels / "sae_l6_resid_pre_256").string();
  othrun::testing::write_file(
      *dir_ / "bad.yaml",
      "name: dash\nstore: " + store_.string() + "\nsteps:\n" +
          "  - {plugin: dashboard, label: dash_bad, games: games, unit: feature, features: sae, "
          "sae: " +
          sae256 + "}\n");
  const auto r = run_othrun(shell_quote((*dir_ / "bad.yaml").string()));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("has 256 features, the features input 128"), std::string::npos)
      << r.out << r.err;
  EXPECT_FALSE(othrun::Store(store_).has("dash_bad"));
  EXPECT_FALSE(fs::exists(pages("dash_bad")));

  // A sae_correlation product of other features (the same SAE encoded again: another product).
  const std::string sae128 = (kModels / "sae_l6_resid_pre_128").string();
  othrun::testing::write_file(
      *dir_ / "bad2.yaml",
      "name: dash\nstore: " + store_.string() + "\nsteps:\n" +
          "  - {plugin: sae_encode, label: sae_again, activations: "
          "'cache:blocks.6.hook_resid_pre', "
          "sae: " +
          sae128 + "}\n" +
          "  - {plugin: sae_correlation, label: corr_again, games: games, features: sae_again}\n"
          "  - {plugin: dashboard, label: dash_bad, games: games, unit: feature, features: sae, "
          "correlation: corr_again}\n");
  const auto r2 = run_othrun(shell_quote((*dir_ / "bad2.yaml").string()));
  EXPECT_EQ(r2.exit_code, 1) << r2.out << r2.err;
  EXPECT_NE((r2.out + r2.err)
                .find("product 'corr_again' (`correlation:`) was not made from this "
                      "run's 'sae'"),
            std::string::npos)
      << r2.out << r2.err;
  EXPECT_FALSE(othrun::Store(store_).has("dash_bad"));
}

// A sae_intervention product (written here in that plugin's documented layout,
// docs/interventions.md) shows on the edited features' views; a product of another SAE is refused.
TEST_F(DashboardTest, ShowsAblationEffectsOfAnInterventionProduct) {
  const fs::path sae128 = kModels / "sae_l6_resid_pre_128";
  auto write_intervention = [&](const std::string& label, const fs::path& sae) {
    othrun::Store store(store_);
    othrun::Product p = store.begin(
        label,
        othrun::Provenance{
            "sae_intervention", "1.0.0", {"sae_intervention"}, "op: ablate\n", "hash", {}, "dash"});
    othrun::Group& root = p.root();
    othrun::Group f = root.create_group("features");
    f.create_dataset<std::int64_t>("index", {2})
        .write_rows<std::int64_t>(0, std::vector<std::int64_t>{5, 3});
    root.create_dataset<std::int64_t>("rows", {2, 2})
        .write_rows<std::int64_t>(0, std::vector<std::int64_t>{100, 20, 100, 30});
    std::vector<double> lp(2 * 2 * 64), flips(2 * 2 * 64);
    for (std::size_t i = 0; i < lp.size(); ++i) {
      const std::size_t s = i % 64;
      lp[i] = (s == 27 || s == 28 || s == 35 || s == 36) ? NAN : double(i) / 100.0 - 1.0;
      flips[i] = double(s) / 64.0;
    }
    root.create_dataset<double>("logprob_change", {2, 2, 8, 8}).write_rows<double>(0, lp);
    root.create_dataset<double>("probe_flips", {2, 2, 8, 8}).write_rows<double>(0, flips);
    root.attrs().set("op", "ablate");
    root.attrs().set("sae", sae.string());
    root.attrs().set("hook", "blocks.6.hook_resid_pre");
    root.attrs().set("othrun.seconds", 0.1);
    store.commit(std::move(p));
  };
  write_intervention("interv", sae128);
  write_intervention("interv_other", kModels / "sae_l6_resid_pre_256");
  auto experiment_with = [&](const std::string& intervention) {
    othrun::testing::write_file(
        *dir_ / "abl.yaml",
        "name: dash\nstore: " + store_.string() + "\nsteps:\n" +
            "  - {plugin: dashboard, label: dash_abl, games: games, unit: feature, features: sae, "
            "correlation: corr, intervention: " +
            intervention + "}\n");
    return run_othrun(shell_quote((*dir_ / "abl.yaml").string()));
  };
  const auto ok = experiment_with("interv");
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // Units 0..15 are in data/u/0.js: feature 5 edited (entry 0 of the product), feature 0 not.
  const std::string data = read_text(pages("dash_abl") / "data" / "u" / "0.js");
  const std::string f5 = data.substr(data.find("{\"index\":5,"));
  const std::string ablation = f5.substr(f5.find("\"ablation\":"), 3000);
  EXPECT_NE(ablation.find("\"rows_all\":100,\"rows_fired\":20"), std::string::npos) << ablation;
  // logprob_fired = entry 0, set 1: i = 64 + s -> (64 + s) / 100 - 1: -0.36, -0.35, ...
  EXPECT_NE(ablation.find("\"logprob_fired\":[-0.36,-0.35,"), std::string::npos) << ablation;
  EXPECT_NE(ablation.find("\"logprob_all\":[-1,-0.99,"), std::string::npos) << ablation;
  const std::string f0 = data.substr(data.find("{\"index\":0,"));
  EXPECT_EQ(f0.substr(0, f0.find("{\"index\":1,")).find("\"ablation\":null"),
            f0.substr(0, f0.find("{\"index\":1,")).rfind("\"ablation\":"))
      << "feature 0 was not edited";
  const std::string meta = read_text(pages("dash_abl") / "data" / "meta.js");
  EXPECT_NE(meta.find("'interv' edited 2 of the 128 features"), std::string::npos) << meta;

  if (!std::string(OTHRUN_CHROMIUM).empty()) {
    TempDir profiles;
    // Histogram, the three ablation boards, board and sparkline per example (no logits here).
    EXPECT_GE(expect_page_renders(pages("dash_abl"), "unit.html#5", "sae_feature_5_ablation",
                                  profiles.path()),
              1 + 3 + 2 * 10);
  }

  const auto other = experiment_with("interv_other");
  EXPECT_EQ(other.exit_code, 1) << other.out << other.err;
  EXPECT_NE((other.out + other.err).find("edited the SAE"), std::string::npos) << other.err;
}

// The index sorts and filters as the product's numbers say (the view is set by the URL's hash).
TEST_F(DashboardTest, IndexSortsAndFilters) {
  if (std::string(OTHRUN_CHROMIUM).empty()) GTEST_SKIP() << "chromium not found";
  othrun::Store store(store_);
  const othrun::Product product = store.open("dash_sae");
  const auto f1 = product.root().dataset("states/f1").read_all<float>();
  const auto square = product.root().dataset("states/square").read_all<std::int64_t>();
  const auto state = product.root().dataset("states/state").read_all<std::int64_t>();
  const std::size_t ranks = f1.size() / 128;
  std::size_t best = 0;
  int matching = 0;
  for (std::size_t u = 0; u < 128; ++u) {
    if (f1[u * ranks] > f1[best * ranks]) best = u;
    // Filtered by unit 0's top state, so at least one unit matches and not all (checked below).
    matching += square[u * ranks] == square[0] && state[u * ranks] == state[0];
  }
  TempDir profiles;
  auto dom = [&](const std::string& hash) {
    const auto r = run_chromium(profiles / "p", "--dump-dom",
                                (pages("dash_sae") / "index.html").string() + "#" + hash);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(attr(r.out, "data-render-state"), "done");
    return r.out;
  };
  const std::string by_f1 = dom("sort=f1&desc=1");
  const std::regex first_row("<tr data-unit=\"(\\d+)\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(by_f1, m, first_row));
  EXPECT_EQ(std::stoul(m[1].str()), best) << "the highest F1 first";
  ASSERT_LT(matching, 128) << "every unit has the same top state: the filter test means nothing";
  const std::string filtered =
      dom("square=" + std::to_string(square[0]) + "&state=" + std::to_string(state[0]));
  EXPECT_NE(filtered.find(std::to_string(matching) + " of 128 units match"), std::string::npos)
      << "filtered by unit 0's top state";
}

TEST(DashboardConfig, ErrorsNameTheKey) {
  TempDir dir;
  const std::string model = (kModels / "othello_gpt_default.pth").string();
  auto check = [&](const std::string& dashboard_step, const std::string& expected) {
    othrun::testing::write_file(
        dir / "bad.yaml",
        "name: bad\nstore: " + (dir / "bad.h5").string() + "\nsteps:\n" +
            "  - {plugin: games, label: games, source: synthetic, games: 4}\n" +
            "  - {plugin: inference, label: cache, games: games, model: " + model +
            ", hooks: [blocks.0.mlp.hook_post], logits: log_probs}\n" + dashboard_step);
    const auto r = run_othrun("--check " + shell_quote((dir / "bad.yaml").string()));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(expected), std::string::npos) << r.out << r.err;
  };
  check("  - {plugin: dashboard, unit: feature}\n", "unit 'feature' needs `features:`");
  check("  - {plugin: dashboard, unit: neuron}\n", "unit 'neuron' needs `activations: LABEL:HOOK`");
  check("  - {plugin: dashboard, unit: probe, activations: 'cache:blocks.0.mlp.hook_post'}\n",
        "unit 'probe' needs `probe:`");
  check(
      "  - {plugin: dashboard, unit: neuron, activations: 'cache:blocks.0.mlp.hook_post', "
      "logits: 'cache:blocks.0.mlp.hook_post'}\n",
      "LABEL:log_probs or LABEL:logits");
}
