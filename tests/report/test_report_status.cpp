// The report's steps: in the experiment's order, each with its status (ran, up to date, failed
// with its error, not run, stale), its key metrics, the SAE comparison and the dashboard links.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"
#include "runtime/last_run.hpp"

namespace fs = std::filesystem;
namespace r = othrun::report;
using othrun::testing::read_text;
using othrun::testing::run_command;
using othrun::testing::shell_quote;
using othrun::testing::TempDir;
using othrun::testing::write_file;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The text of the <section> of step `label`.
std::string section(const std::string& page, const std::string& label) {
  const auto at = page.find("<section class=\"step\" id=\"step-" + label + "\"");
  if (at == std::string::npos) return {};
  return page.substr(at, page.find("</section>", at) - at);
}

std::string write_page(const fs::path& index) {
  const fs::path html = r::report_path_for(index);
  r::write_report(othrun::Store(index), "", html,
                  r::ReportOptions{index.parent_path() / "none.js"});
  return read_text(html);
}

othrun::Provenance provenance(const std::string& plugin, std::vector<std::string> inputs = {}) {
  return othrun::Provenance{plugin, "1.0.0", {plugin}, "x: 1\n", "hash", std::move(inputs), "e"};
}

std::string commit(othrun::Store& store, const std::string& label, const std::string& plugin,
                   std::vector<std::string> inputs = {}) {
  othrun::Product product = store.begin(label, provenance(plugin, std::move(inputs)));
  const std::string id = product.product_id();
  store.commit(std::move(product));
  return id;
}

othrun::testing::CommandResult run_othrun(const fs::path& yaml) {
  return run_command(std::string(OTHRUN_EXE) + " --plugin-path " + shell_quote(OTHRUN_PLUGIN_DIR) +
                     " " + shell_quote(yaml.string()));
}

// Steps named so that neither the alphabet nor the start time gives the experiment's order:
// "zeta" comes before "alpha", and "broken" (game 50 of 10) fails when it runs.
std::string experiment(int games) {
  return "name: order\nstore: out/s.h5\nseed: 1\nsteps:\n"
         "  - plugin: games\n    label: games\n    source: synthetic\n    games: " +
         std::to_string(games) +
         "\n"
         "  - plugin: board\n    label: zeta\n    games: games\n    boards: [\"game 1 ply 3\"]\n"
         "  - plugin: board\n    label: broken\n    games: games\n"
         "    boards: [\"game 50 ply 3\"]\n"
         "  - plugin: board\n    label: alpha\n    games: games\n    boards: [\"game 2 ply 4\"]\n";
}

}  // namespace

// A real run: the order is the experiment's, a failed step shows with its error, a rerun marks
// the skipped steps up to date, and a later run that rebuilt an input marks its readers stale.
TEST(ReportStatus, RunnerReportHasOrderStatusErrorsAndStaleMarks) {
  TempDir dir;
  write_file(dir / "x.yaml", experiment(10));
  const auto first = run_othrun(dir / "x.yaml");
  ASSERT_NE(first.exit_code, 0) << "step 'broken' should fail";
  const fs::path index = dir / "out/s.h5";
  std::string page = read_text(r::report_path_for(index));
  const auto games = page.find("id=\"step-games\""), zeta = page.find("id=\"step-zeta\"");
  const auto broken = page.find("id=\"step-broken\""), alpha = page.find("id=\"step-alpha\"");
  ASSERT_NE(broken, std::string::npos) << "a failed step without a product still has a section";
  EXPECT_LT(games, zeta);
  EXPECT_LT(zeta, broken);
  EXPECT_LT(broken, alpha);
  // The contents table lists them in the same order.
  EXPECT_LT(page.find("href=\"#step-zeta\""), page.find("href=\"#step-alpha\""));
  EXPECT_NE(section(page, "games").find("data-status=\"ran\""), std::string::npos);
  const std::string failed = section(page, "broken");
  EXPECT_NE(failed.find("data-status=\"failed\""), std::string::npos);
  EXPECT_NE(failed.find("This step failed in the last run"), std::string::npos);
  EXPECT_NE(failed.find("50"), std::string::npos) << "the error names the game: " << failed;
  EXPECT_NE(failed.find("It has no product in the store."), std::string::npos);
  EXPECT_EQ(failed.find("<figure"), std::string::npos);

  const auto again = run_othrun(dir / "x.yaml");
  EXPECT_NE(again.exit_code, 0);
  page = read_text(r::report_path_for(index));
  EXPECT_NE(section(page, "zeta").find("data-status=\"up to date\""), std::string::npos);
  EXPECT_NE(section(page, "broken").find("data-status=\"failed\""), std::string::npos);
  EXPECT_NE(page.find("3 up to date, 1 failed"), std::string::npos);

  // Another experiment on the store rebuilds 'games' with 12 games: zeta and alpha were built
  // from the older games and are marked.
  write_file(dir / "y.yaml",
             "name: order\nstore: out/s.h5\nseed: 1\nsteps:\n"
             "  - plugin: games\n    label: games\n    source: synthetic\n    games: 12\n");
  ASSERT_EQ(run_othrun(dir / "y.yaml").exit_code, 0);
  page = read_text(r::report_path_for(index));
  for (const char* label : {"zeta", "alpha"}) {
    const std::string stale = section(page, label);
    EXPECT_NE(stale.find("data-status=\"stale\""), std::string::npos) << label;
    EXPECT_NE(stale.find("STALE &mdash; input &#39;games&#39; was rerun since"), std::string::npos)
        << stale;
  }
  EXPECT_NE(section(page, "games").find("data-status=\"ran\""), std::string::npos);
  EXPECT_LT(page.find("id=\"step-games\""), page.find("id=\"step-zeta\""));
  // Not steps of the last run: still in their experiment's order (othrun.step_index).
  EXPECT_LT(page.find("id=\"step-zeta\""), page.find("id=\"step-alpha\""));
}

// Without a run record the products keep the order they were built in; a recorded run orders
// them as the experiment does, lists steps that were not run, and puts products of no step of
// the last run after them.
TEST(ReportStatus, RecordedRunOrdersAndNamesEveryStep) {
  TempDir dir;
  const fs::path index = dir / "s.h5";
  {
    othrun::Store store(index);
    const std::string a = commit(store, "a", "games");
    commit(store, "c", "board", {"a:" + a});
    commit(store, "b", "board", {"a:" + a});
    commit(store, "old", "board", {"a:" + a});
  }
  std::string page = write_page(index);
  EXPECT_LT(page.find("id=\"step-a\""), page.find("id=\"step-c\""));  // after what it read
  EXPECT_NE(section(page, "b").find("data-status=\"earlier run\""), std::string::npos);

  othrun::LastRun run;
  run.steps = {{"gone", "board", "ran", ""},
               {"a", "games", "up to date", ""},
               {"b", "board", "ran", ""},
               {"c", "board", "ran", ""},
               {"d", "board", "not run", "depends on x"},
               {"x", "board", "failed", "x.npy: row 3: expected 60 moves, found 59"}};
  othrun::write_last_run(index, run);
  page = write_page(index);
  std::vector<size_t> at;
  for (const char* label : {"gone", "a", "b", "c", "d", "x", "old"}) {
    at.push_back(page.find(std::string("id=\"step-") + label + "\""));
    ASSERT_NE(at.back(), std::string::npos) << label;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));
  EXPECT_NE(section(page, "a").find("data-status=\"up to date\""), std::string::npos);
  EXPECT_NE(section(page, "d").find("Not run in the last run</b> (depends on x)"),
            std::string::npos);
  EXPECT_NE(section(page, "x").find("x.npy: row 3: expected 60 moves, found 59"),
            std::string::npos);
  EXPECT_NE(section(page, "old").find("data-status=\"earlier run\""), std::string::npos);
  // A product the last run built that has gone since.
  EXPECT_NE(section(page, "gone").find("Its product is not in the store</b> (not in the store)"),
            std::string::npos);
  EXPECT_NE(page.find("1 missing, 1 up to date, 2 ran, 1 not run, 1 failed, 1 earlier run"),
            std::string::npos);
}

// Numbers a product stores as scalar attributes are its key metrics; several SAEs are compared in
// one table (values as stored) and one figure; a product with dashboards is linked.
TEST(ReportStatus, MetricsSaeComparisonAndDashboardLinks) {
  TempDir dir;
  const fs::path index = dir / "s.h5";
  struct Sae {
    const char* label;
    std::int64_t width;
    double mse, ev, l0;
    std::int64_t dead;
  };
  const Sae saes[] = {{"sae_512", 512, 2.1431, 0.8383, 42.6, 3},
                      {"sae_128", 128, 3.0165, 0.7724, 26.4, 0}};
  {
    othrun::Store store(index);
    for (const auto& sae : saes) {
      othrun::Product product = store.begin(sae.label, provenance("sae_encode"));
      auto attrs = product.root().attrs();
      attrs.set("d_sae", sae.width);
      attrs.set("sae_path", "models/x");
      product.root().create_group("features").attrs().set("hook", "blocks.6.hook_resid_pre");
      auto metrics = product.root().create_group("metrics").attrs();
      metrics.set("rows", std::int64_t{59000});
      metrics.set("mse", sae.mse);
      metrics.set("explained_variance", sae.ev);
      metrics.set("l0", sae.l0);
      metrics.set("dead_features", sae.dead);
      if (sae.width == 512) {  // a product that measured the spliced loss
        metrics.set("loss_clean", 2.3579);
        metrics.set("loss_spliced", 2.5684);
      }
      store.commit(std::move(product));
    }
    othrun::Product dash = store.begin("dash_sae", provenance("dashboard"));
    dash.root().attrs().set("dashboard_index", "dashboards/dash_sae/index.html");
    dash.root().attrs().set("dashboard_title", "SAE features: sae_512");
    store.commit(std::move(dash));
  }
  write_file(dir / "s.d/dashboards/dash_sae/index.html", "<html></html>");
  const std::string page = write_page(index);

  const std::string sae = section(page, "sae_512");
  EXPECT_NE(
      sae.find(
          "data-metric=\"metrics/explained_variance\" data-value=\"0.83830000000000005\">0.8383<"),
      std::string::npos)
      << sae;
  EXPECT_NE(sae.find("data-metric=\"metrics/dead_features\" data-value=\"3\">3<"),
            std::string::npos);
  EXPECT_NE(sae.find("data-metric=\"d_sae\""), std::string::npos);
  EXPECT_EQ(sae.find("othrun.seconds"), std::string::npos);  // provenance is not a metric

  const auto table = page.find("<table class=\"sae-comparison\">");
  ASSERT_NE(table, std::string::npos);
  // By width, whatever the order of the steps.
  EXPECT_LT(page.find("<tr data-step=\"sae_128\">", table),
            page.find("<tr data-step=\"sae_512\">", table));
  EXPECT_NE(page.find("data-key=\"mse\" data-value=\"3.0165000000000002\">3.0165<", table),
            std::string::npos);
  // The loss increase where a product stores it, "not stored" elsewhere, and the page says why.
  EXPECT_NE(page.find("data-key=\"loss_increase\"", table), std::string::npos);
  EXPECT_NE(page.find("+0.2105 (2.3579 &rarr; 2.5684)", table), std::string::npos);
  EXPECT_NE(page.find("<td class=\"na\">not stored</td>", table), std::string::npos);
  EXPECT_NE(page.find("<b>Not available</b> where marked", table), std::string::npos);
  EXPECT_NE(page.find("id=\"fig-report/sae_widths\""), std::string::npos);

  // Links relative to the report's folder.
  EXPECT_NE(page.find("<a href=\"s.d/dashboards/dash_sae/index.html\">SAE features: sae_512</a>"),
            std::string::npos);
  EXPECT_EQ(page.find("(missing: the page is not beside the store)"), std::string::npos);
  // ... also from the steps' table, beside the SAE steps' link to the comparison.
  EXPECT_NE(page.find("<a href=\"s.d/dashboards/dash_sae/index.html\">dashboards</a>"),
            std::string::npos);
  EXPECT_EQ(count_of(page, "<a href=\"#sae-comparison\">SAEs compared</a>"), 2u);

  if (std::string(OTHRUN_PYTHON3).empty() ||
      run_command(std::string(OTHRUN_PYTHON3) + " -c 'import h5py'").exit_code != 0) {
    GTEST_SKIP() << "python3 with h5py not found (apt-get install python3-h5py)";
  }
  const auto check = run_command(
      std::string(OTHRUN_PYTHON3) + " " +
      shell_quote(std::string(OTHRUN_SOURCE_DIR) + "/tests/report/check_sae_table.py") + " " +
      shell_quote(index.string()) + " " + shell_quote(r::report_path_for(index).string()) + " 2");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}
