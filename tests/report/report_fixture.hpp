// A small store with a few products holding figures, for the report tests.
#pragma once

#include <filesystem>
#include <string>

namespace othrun::testing {

// Writes products "games" (no figures), "neuron" (boards, spectrum) and "sae" (correlation
// histogram, top pairs table and bar charts linked to it) into the store at `index`.
void make_report_store(const std::filesystem::path& index);

// The number of figures (plots and tables) make_report_store writes, and of plots among them.
inline constexpr int kFixtureFigures = 10;
inline constexpr int kFixturePlots = 9;

}  // namespace othrun::testing
