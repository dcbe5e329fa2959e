// Shared pieces of the figure builders: Plotly JSON fragments. Internal to libothrun_core.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include <othrun/report.hpp>

namespace othrun::report::detail {

using json = nlohmann::json;

// Wraps data traces and a layout into a Figure; checks the name.
Figure make_figure(std::string name, std::string kind, std::string title, std::string caption,
                   json data, json layout);

// A layout with the title and the margins every report figure uses.
json base_layout(const std::string& title);
// {"title": {"text": text}} for an axis, or an empty object when text is empty.
json axis(const std::string& title);
// The colour scale as explicit [fraction, colour] pairs (plotly.js's own "Blues"/"RdBu" run the
// other way round from plotly express's, which the seed notebook used).
json colorscale(ColorScale scale);
// An 8x8 board's layout: category axes ("0".."7" stay labels), A at the top, equal aspect.
json board_layout(const std::string& title);
// {"x": ["0".."7"], "y": ["A".."H"]}: the board's axis labels.
json board_axes_labels();
// The i-th colour of plotly express's default qualitative sequence.
std::string palette(size_t i);

}  // namespace othrun::report::detail
