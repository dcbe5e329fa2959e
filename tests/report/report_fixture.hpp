// A small store with a few products holding figures, for the report tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "../core/test_helpers.hpp"

namespace othrun::testing {

// Writes products "games" (no figures), "neuron" (boards, spectrum) and "sae" (correlation
// histogram, top pairs table and bar charts linked to it) into the store at `index`.
void make_report_store(const std::filesystem::path& index);

// The number of figures (plots and tables) make_report_store writes, and of plots among them.
inline constexpr int kFixtureFigures = 10;
inline constexpr int kFixturePlots = 9;

// One headless Chromium run of `chromium` on `page` (action: "--dump-dom", "--screenshot=..."),
// isolated in its own profile, with virtual time so the page's scripts finish first.
CommandResult run_chromium(const std::string& chromium, const std::filesystem::path& profile,
                           const std::string& action, const std::filesystem::path& page);

// A full-page screenshot of `page` into `png` (any older file removed first), `height` pixels tall.
CommandResult run_chromium_screenshot(const std::string& chromium,
                                      const std::filesystem::path& profile,
                                      const std::filesystem::path& page,
                                      const std::filesystem::path& png, int height);

// The text of each <figure ...> element of a dumped DOM.
std::vector<std::string> figure_elements(const std::string& dom);

}  // namespace othrun::testing
