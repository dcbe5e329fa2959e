// A small store with a few products holding figures, for the report tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "../core/test_helpers.hpp"

namespace othrun::testing {

// Writes products "games" (no figures), "neuron" (boards, spectrum) and "sae" (correlation
// histogram, top pairs table and the pairs' counts linked to it) into the store at `index`.
void make_report_store(const std::filesystem::path& index);

// The number of figures (plots and tables) make_report_store writes, and of plots among them.
inline constexpr int kFixtureFigures = 9;
inline constexpr int kFixturePlots = 8;

// One headless Chromium run of `chromium` on `page` (action: "--dump-dom", "--screenshot=..."),
// isolated in its own profile, with virtual time so the page's scripts finish first.
CommandResult run_chromium(const std::string& chromium, const std::filesystem::path& profile,
                           const std::string& action, const std::filesystem::path& page);

// A full-page screenshot of `page` into `png` (any older file removed first), `height` pixels tall.
CommandResult run_chromium_screenshot(const std::string& chromium,
                                      const std::filesystem::path& profile,
                                      const std::filesystem::path& page,
                                      const std::filesystem::path& png, int height);

// A copy of the report `page` at `out` with a script that, once the page has rendered, measures the
// laid-out page and lists what overlaps: plotly's toolbar over any text of its plot (titles, panel
// titles, legend, axis titles and ticks, colour bar title), a figure title over its plot, a plot
// wider than its figure box. The dumped DOM then has <body data-layout-problems="N"> and the list
// in <pre id="layout-problems">.
void copy_with_layout_probe(const std::filesystem::path& page, const std::filesystem::path& out);
// N of data-layout-problems in a dumped DOM (-1 when the probe did not finish), and the list.
int layout_problems(const std::string& dom, std::string* list = nullptr);

// The text of each <figure ...> element of a dumped DOM.
std::vector<std::string> figure_elements(const std::string& dom);

}  // namespace othrun::testing
