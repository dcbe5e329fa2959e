// The HTML report holds every step's provenance, config, timing and figures.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"
#include "report_fixture.hpp"

namespace r = othrun::report;
using othrun::testing::TempDir;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(ReportHtml, HoldsProvenanceConfigTimingAndFigures) {
  TempDir dir;
  othrun::testing::make_report_store(dir / "demo.h5");
  const auto out = dir / "out" / "report.html";
  r::write_report(othrun::Store(dir / "demo.h5"), "Demo experiment", out,
                  r::ReportOptions{dir / "no-plotly.js"});
  const std::string page = read_text(out);
  EXPECT_NE(page.find("<h1>Demo experiment</h1>"), std::string::npos);
  for (const char* text : {"neuron_analysis 1.0.0", "sae_correlation", "games: games", "seed: 1",
                           "framework revision", "1.250", "2.500", "product id"}) {
    EXPECT_NE(page.find(text), std::string::npos) << text;
  }
  // No record of a run: the products in the order they were built, not alphabetical.
  EXPECT_LT(page.find("id=\"step-games\""), page.find("id=\"step-neuron\""));
  EXPECT_LT(page.find("id=\"step-neuron\""), page.find("id=\"step-sae\""));
  EXPECT_EQ(count(page, "<figure id=\"fig-"), size_t(othrun::testing::kFixtureFigures));
  EXPECT_EQ(count(page, "<div class=\"plot\""), size_t(othrun::testing::kFixturePlots));
  EXPECT_NE(page.find("id=\"fig-sae/pair_counts\""), std::string::npos);
  // Links: the table's cells and the "Related" lines, across products too.
  EXPECT_GE(count(page, "href=\"#fig-sae/pair_counts\""), 3u);
  EXPECT_NE(page.find("href=\"#fig-neuron/max_act\""), std::string::npos);
  EXPECT_NE(page.find("href=\"#step-games\""), std::string::npos);  // an input link
  EXPECT_NE(page.find("Example Log Probs"), std::string::npos);
  EXPECT_NE(page.find("log_softmax at the last position"), std::string::npos);
  // No plotly: the note is in the page and no library was inlined.
  EXPECT_NE(page.find("Figures need plotly.js"), std::string::npos);
  EXPECT_EQ(page.find("Plotly.newPlot="), std::string::npos);
  EXPECT_EQ(page.find("could not be read"), std::string::npos);
  EXPECT_LT(page.size(), 200000u);
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".tmp"));
}

TEST(ReportHtml, InlinesPlotlyWhenFound) {
  const std::filesystem::path plotly = OTHRUN_TEST_PLOTLY_JS;
  if (!std::filesystem::exists(plotly))
    GTEST_SKIP() << "plotly.js not installed (scripts/setup.sh)";
  TempDir dir;
  othrun::testing::make_report_store(dir / "demo.h5");
  r::write_report(othrun::Store(dir / "demo.h5"), "Demo", dir / "r.html", r::ReportOptions{plotly});
  EXPECT_GT(std::filesystem::file_size(dir / "r.html"), std::filesystem::file_size(plotly));
}

TEST(ReportHtml, ScriptDataCannotCloseItsElement) {
  TempDir dir;
  {
    othrun::Store store(dir / "s.h5");
    othrun::Product product =
        store.begin("x", othrun::Provenance{"p", "1", {}, "title: </script><b>", "h", {}, "e"});
    r::write_figure(product.root(),
                    r::line_chart("l", {{"</script>", {0}, {1}, {}, ""}}, {"<b>t</b>", "", ""}));
    store.commit(std::move(product));
  }
  r::write_report(othrun::Store(dir / "s.h5"), "<name>", dir / "r.html",
                  r::ReportOptions{dir / "none.js"});
  const std::string page = read_text(dir / "r.html");
  // Only the page's own script elements close.
  EXPECT_EQ(count(page, "</script>"), count(page, "<script"));
  EXPECT_NE(page.find("&lt;name&gt;"), std::string::npos);
}

TEST(ReportHtml, ReportPathIsBesideTheStore) {
  EXPECT_EQ(r::report_path_for("runs/l6.h5"), std::filesystem::path("runs/l6.report.html"));
}

TEST(ReportHtml, CliRewritesTheReportOfAStore) {
  TempDir dir;
  othrun::testing::make_report_store(dir / "demo.h5");
  const auto result =
      othrun::testing::run_command(std::string(OTHRUN_EXE) + " --report " +
                                   othrun::testing::shell_quote((dir / "demo.h5").string()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string page = read_text(dir / "demo.report.html");
  EXPECT_NE(page.find("<h1>demo</h1>"), std::string::npos);
  EXPECT_NE(result.err.find("demo.report.html"), std::string::npos) << result.err;

  const auto missing =
      othrun::testing::run_command(std::string(OTHRUN_EXE) + " --report " +
                                   othrun::testing::shell_quote((dir / "no.h5").string()));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "no.h5"));
}
