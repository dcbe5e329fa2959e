// Opens a generated report in headless Chromium: no console errors, every figure rendered, and a
// screenshot in the build's test-output/report/ folder for a person to look at.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"
#include "report_fixture.hpp"

namespace fs = std::filesystem;
using othrun::testing::figure_elements;
using othrun::testing::read_text;
using othrun::testing::run_chromium;
using othrun::testing::shell_quote;
using othrun::testing::TempDir;

TEST(ReportBrowser, EveryFigureRendersWithoutConsoleErrors) {
  if (std::string(OTHRUN_CHROMIUM).empty()) {
    GTEST_SKIP() << "chromium not found (scripts/setup.sh installs it)";
  }
  if (!fs::exists(OTHRUN_TEST_PLOTLY_JS)) {
    GTEST_SKIP() << "plotly.js not found at " << OTHRUN_TEST_PLOTLY_JS << " (scripts/setup.sh)";
  }
  TempDir dir;
  othrun::testing::make_report_store(dir / "demo.h5");
  const fs::path output = OTHRUN_REPORT_TEST_OUTPUT;
  fs::create_directories(output);
  const fs::path page = output / "report.html";
  othrun::report::write_report(othrun::Store(dir / "demo.h5"), "Demo experiment", page,
                               othrun::report::ReportOptions{fs::path(OTHRUN_TEST_PLOTLY_JS)});

  othrun::testing::copy_with_layout_probe(page, dir / "probed.html");
  const auto dumped =
      run_chromium(OTHRUN_CHROMIUM, dir / "profile-dom", "--dump-dom", dir / "probed.html");
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  const std::string& dom = dumped.out;
  EXPECT_NE(dom.find("data-render-state=\"done\""), std::string::npos)
      << "the render script did not finish cleanly";
  EXPECT_NE(dom.find("data-render-errors=\"0\""), std::string::npos);
  // Chromium logs every console message of the page as a CONSOLE line; the report logs none.
  EXPECT_EQ(dumped.err.find("CONSOLE"), std::string::npos) << dumped.err;

  // Laid out without overlaps: plotly's toolbar clear of every text, titles above their plots.
  std::string problems;
  EXPECT_EQ(othrun::testing::layout_problems(dom, &problems), 0) << problems;

  const auto figures = figure_elements(dom);
  ASSERT_EQ(figures.size(), size_t(othrun::testing::kFixtureFigures));
  int plots = 0;
  for (const auto& figure : figures) {
    const std::string head = figure.substr(0, figure.find('>'));
    if (figure.find("class=\"figure-table\"") != std::string::npos) {
      EXPECT_NE(figure.find("<td>"), std::string::npos) << head;
      continue;
    }
    ++plots;
    EXPECT_NE(figure.find("data-rendered=\"1\""), std::string::npos) << head;
    EXPECT_NE(figure.find("main-svg"), std::string::npos) << head << ": no plot drawn";
  }
  EXPECT_EQ(plots, othrun::testing::kFixturePlots);

  const fs::path screenshot = output / "report.png";
  const auto shot = othrun::testing::run_chromium_screenshot(OTHRUN_CHROMIUM, dir / "profile-shot",
                                                             page, screenshot, 7000);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(screenshot)) << shot.err;
  EXPECT_GT(fs::file_size(screenshot), 50000u) << "screenshot looks empty";
  const std::string png = read_text(screenshot).substr(0, 8);
  EXPECT_EQ(png, "\x89PNG\r\n\x1a\n");
  std::cout << "screenshot: " << screenshot.string() << "\n";
}

TEST(ReportBrowser, WithoutPlotlyTheReportSaysSo) {
  if (std::string(OTHRUN_CHROMIUM).empty()) {
    GTEST_SKIP() << "chromium not found (scripts/setup.sh installs it)";
  }
  TempDir dir;
  othrun::testing::make_report_store(dir / "demo.h5");
  const fs::path page = dir / "report.html";
  othrun::report::write_report(othrun::Store(dir / "demo.h5"), "Demo", page,
                               othrun::report::ReportOptions{dir / "missing-plotly.js"});
  const auto dumped = run_chromium(OTHRUN_CHROMIUM, dir / "profile", "--dump-dom", page);
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_NE(dumped.out.find("data-render-state=\"no-plotly\""), std::string::npos);
  // The note is visible (no hidden attribute) and tables still render.
  EXPECT_NE(dumped.out.find("<div id=\"plotly-missing\" class=\"note\">"), std::string::npos);
  EXPECT_NE(dumped.out.find("class=\"figure-table\""), std::string::npos);
  EXPECT_EQ(dumped.err.find("CONSOLE"), std::string::npos) << dumped.err;
}
