// The figure builders produce the Plotly JSON structure the report and Python users rely on.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <othrun/error.hpp>
#include <othrun/report.hpp>

#include "inference/notebook_figure.hpp"
#include "max_activation/notebook_figure.hpp"
#include "neuron_spectrum/notebook_figure.hpp"
#include "probe_projection/notebook_figure.hpp"
#include "sae_correlation/notebook_figures.hpp"

namespace r = othrun::report;
using nlohmann::json;

namespace {

json parse(const r::Figure& figure) { return json::parse(figure.plotly_json); }

r::Board iota_board(double offset = 0) {
  r::Board board{};
  for (int s = 0; s < 64; ++s) board[s] = s + offset;
  return board;
}

// The checks every 8x8 board shares: z 8x8, A..H down, 0..7 across, category axes, A on top.
void expect_board(const json& fig) {
  const json& trace = fig["data"][0];
  EXPECT_EQ(trace["type"], "heatmap");
  ASSERT_EQ(trace["z"].size(), 8u);
  for (const auto& row : trace["z"]) EXPECT_EQ(row.size(), 8u);
  EXPECT_EQ(trace["y"], json({"A", "B", "C", "D", "E", "F", "G", "H"}));
  EXPECT_EQ(trace["x"], json({"0", "1", "2", "3", "4", "5", "6", "7"}));
  EXPECT_EQ(fig["layout"]["xaxis"]["type"], "category");
  EXPECT_EQ(fig["layout"]["yaxis"]["autorange"], "reversed");
  EXPECT_EQ(fig["layout"]["yaxis"]["scaleanchor"], "x");
}

std::string first_colour(const json& trace) { return trace["colorscale"][0][1]; }
std::string last_colour(const json& trace) { return trace["colorscale"].back()[1]; }

}  // namespace

TEST(Figures, BoardHeatmapLayoutAndValues) {
  r::HeatmapOptions options;
  options.masked[9] = true;
  const auto figure = r::board_heatmap("b", iota_board(), "A board", options, "cap");
  EXPECT_EQ(figure.kind, "heatmap");
  EXPECT_EQ(figure.caption, "cap Colours span 0 to 63 (the data's range).");
  const json fig = parse(figure);
  expect_board(fig);
  EXPECT_EQ(fig["layout"]["title"]["text"], "A board");
  const json& z = fig["data"][0]["z"];
  EXPECT_EQ(z[0][0], 0.0);
  EXPECT_EQ(z[4][0], 32.0);  // E0 is square 32
  EXPECT_TRUE(z[1][1].is_null()) << "masked square B1 is blank";
  EXPECT_EQ(z[7][7], 63.0);
}

TEST(Figures, DivergingRangeIsSymmetricAroundMidpoint) {
  r::HeatmapOptions options;
  options.midpoint = 0.0;
  const json trace = parse(r::board_heatmap("b", iota_board(-10), "t", options))["data"][0];
  EXPECT_DOUBLE_EQ(trace["zmin"], -53.0);
  EXPECT_DOUBLE_EQ(trace["zmax"], 53.0);
  EXPECT_EQ(trace["zauto"], false);
  EXPECT_EQ(trace["zmid"], 0.0);
  // plotly express RdBu: red for low values, blue for high.
  EXPECT_EQ(first_colour(trace), "rgb(103,0,31)");
  EXPECT_EQ(last_colour(trace), "rgb(5,48,97)");
}

TEST(Figures, LogProbBoardIsBluesWithZmaxZeroAndBlankCentre) {
  r::Board log_probs{};
  for (int s = 0; s < 64; ++s) log_probs[s] = -0.1 * s - 1;
  const auto figure = r::log_prob_board("lp", log_probs, "Example Log Probs");
  const json fig = parse(figure);
  expect_board(fig);
  const json& trace = fig["data"][0];
  EXPECT_EQ(trace["zmax"], 0.0);
  EXPECT_NEAR(trace["zmin"].get<double>(), -7.3, 1e-9);  // the data's minimum
  EXPECT_EQ(first_colour(trace), "rgb(247,251,255)");    // light for low log-probs
  EXPECT_EQ(last_colour(trace), "rgb(8,48,107)");
  for (auto [row, col] : {std::pair{3, 3}, {3, 4}, {4, 3}, {4, 4}}) {
    EXPECT_TRUE(trace["z"][row][col].is_null()) << row << "," << col;
  }
  EXPECT_FALSE(trace["z"][3][2].is_null());
  EXPECT_EQ(fig["layout"]["title"]["text"], "Example Log Probs");
}

TEST(Figures, MaxActivationBoards) {
  const json signed_fig = parse(r::max_activation_board("m", iota_board(-32), 0, 774, false));
  expect_board(signed_fig);
  EXPECT_EQ(signed_fig["layout"]["title"]["text"], "Max activating dataset examples for L0N774");
  EXPECT_EQ(signed_fig["data"][0]["zmid"], 0.0);
  EXPECT_EQ(first_colour(signed_fig["data"][0]), "rgb(103,0,31)");
  const json abs_fig = parse(r::max_activation_board("a", iota_board(), 0, 774, true));
  EXPECT_EQ(abs_fig["layout"]["title"]["text"],
            "Max activating dataset examples for L0N774 (abs value)");
}

// The probe's accuracies span about 0.7..1: a fixed 0..1 scale left the board almost uniformly
// dark. The colours span the data's range and the caption says so.
TEST(Figures, ProbeAccuracyBoardIsFittedToTheData) {
  r::Board accuracy{};
  for (int s = 0; s < 64; ++s) accuracy[s] = 0.7 + 0.3 * s / 63.0;
  const auto figure = r::probe_accuracy_board("p", accuracy, "Probe accuracy", "Per square.");
  const json fig = parse(figure);
  expect_board(fig);
  EXPECT_DOUBLE_EQ(fig["data"][0]["zmin"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(fig["data"][0]["zmax"].get<double>(), 1.0);
  EXPECT_EQ(figure.caption, "Per square. Colours span 0.7 to 1 (the data's range).");
}

// Every heatmap's caption states its colour range and where it comes from.
TEST(Figures, HeatmapCaptionStatesTheColourRange) {
  r::HeatmapOptions fixed;
  fixed.zmin = -2.0, fixed.zmax = 5.0;
  EXPECT_EQ(r::board_heatmap("a", iota_board(), "t", fixed).caption,
            "Colours span -2 to 5 (fixed).");
  r::HeatmapOptions diverging;
  diverging.midpoint = 0.0;
  EXPECT_EQ(r::board_heatmap("b", iota_board(-10), "t", diverging).caption,
            "Colours span -53 to 53 (fitted to the data, symmetric around 0).");
  r::HeatmapOptions top;
  top.zmax = 0.0;
  EXPECT_EQ(r::board_heatmap("c", iota_board(-70), "t", top).caption,
            "Colours span -70 to 0 (high end fixed at 0, the other end from the data).");
}

TEST(Figures, BinValuesSharesBinsAcrossGroups) {
  const auto h = r::bin_values("t", "x", {{"a", {0.0, 0.5, 1.0}}, {"b", {2.0}}}, 4);
  ASSERT_EQ(h.edges.size(), 5u);
  EXPECT_DOUBLE_EQ(h.edges.front(), 0.0);
  EXPECT_DOUBLE_EQ(h.edges.back(), 2.0);
  EXPECT_EQ(h.groups[0].counts, (std::vector<double>{1, 1, 1, 0}));
  EXPECT_EQ(h.groups[1].counts, (std::vector<double>{0, 0, 0, 1}));  // the maximum is counted
}

TEST(Figures, SpectrumHistogramIsOverlaidPercentPerGroup) {
  std::vector<double> off(300, 0.0), on(100, 1.0);
  for (size_t i = 0; i < off.size(); ++i) off[i] = -1.0 + i * 0.001;
  auto h = r::bin_values("L0N774 spectrum plot testing current_move==E0", "pre_act",
                         {{"False", off}, {"True", on}}, 100);
  h.norm = r::HistNorm::Percent;
  const auto figure = r::spectrum_histogram("s", h);
  const json fig = parse(figure);
  ASSERT_EQ(fig["data"].size(), 2u);
  EXPECT_EQ(fig["layout"]["barmode"], "overlay");
  EXPECT_EQ(fig["layout"]["yaxis"]["title"]["text"], "percent");
  EXPECT_EQ(fig["layout"]["xaxis"]["title"]["text"], "pre_act");
  for (const auto& trace : fig["data"]) {
    EXPECT_EQ(trace["type"], "bar");
    EXPECT_EQ(trace["x"].size(), 100u);
    double total = 0;
    for (double y : trace["y"]) total += y;
    EXPECT_NEAR(total, 100.0, 1e-9) << trace["name"];
  }
  EXPECT_EQ(fig["data"][0]["name"], "False");
  EXPECT_EQ(fig["data"][1]["name"], "True");
}

TEST(Figures, HistogramFromStreamedCounts) {
  r::Histogram h;
  h.title = "Correlation between feature acts and is_empty";
  h.edges = {-1, 0, 1};
  h.groups = {{"pairs", {3, 5}}};
  const json fig = parse(r::correlation_histogram("c", h));
  EXPECT_EQ(fig["data"][0]["x"], json({-0.5, 0.5}));
  EXPECT_EQ(fig["data"][0]["y"], json({3.0, 5.0}));
  EXPECT_EQ(fig["data"][0]["width"], json({1.0, 1.0}));
  EXPECT_EQ(fig["layout"]["yaxis"]["title"]["text"], "count");
  h.groups[0].counts = {1, 2, 3};
  EXPECT_THROW(r::histogram("bad", h), othrun::Error);
}

// The 2x2 counts of the top pairs as small multiples: one panel (axis pair) per pair, the
// notebook's bars in each, one legend.
TEST(Figures, PairCountsGridHasAPanelPerPair) {
  std::vector<r::PairCounts> pairs;
  for (int i = 0; i < 7; ++i) pairs.push_back({485 + i, 43, "", 0.34, 10u + i, 20, 30, 40, ""});
  const auto figure = r::pair_counts_grid("pair_counts", pairs);
  EXPECT_EQ(figure.kind, "pair_counts");
  const json fig = parse(figure);
  EXPECT_EQ(fig["layout"]["barmode"], "group");
  ASSERT_EQ(fig["data"].size(), 14u);  // two series per panel
  ASSERT_EQ(fig["layout"]["annotations"].size(), 7u);
  EXPECT_EQ(fig["layout"]["annotations"][0]["text"], "F485 vs IsEmpty(F3)");
  EXPECT_EQ(fig["layout"]["annotations"][6]["text"], "F491 vs IsEmpty(F3)");
  // Panel 7 (second row, second column) draws on its own axes.
  EXPECT_EQ(fig["data"][12]["xaxis"], "x7");
  EXPECT_EQ(fig["data"][12]["yaxis"], "y7");
  EXPECT_EQ(fig["layout"]["xaxis7"]["anchor"], "y7");
  const double row1_bottom = fig["layout"]["yaxis"]["domain"][0];
  const double row2_top = fig["layout"]["yaxis7"]["domain"][1];
  EXPECT_LT(row2_top, row1_bottom);  // rows do not overlap
  const double col1_right = fig["layout"]["xaxis"]["domain"][1];
  const double col2_left = fig["layout"]["xaxis2"]["domain"][0];
  EXPECT_LT(col1_right, col2_left);
  // The notebook's bars: x = feature fired?, Empty blue (silent, fired), Not Empty red.
  EXPECT_EQ(fig["data"][0]["name"], "Empty");
  EXPECT_EQ(fig["data"][0]["x"], json({"False", "True"}));
  EXPECT_EQ(fig["data"][0]["y"], json({20.0, 10.0}));
  EXPECT_EQ(fig["data"][0]["marker"]["color"], "blue");
  EXPECT_EQ(fig["data"][1]["name"], "Not Empty");
  EXPECT_EQ(fig["data"][1]["y"], json({40.0, 30.0}));
  EXPECT_EQ(fig["data"][1]["marker"]["color"], "red");
  EXPECT_EQ(fig["data"][12]["y"], json({20.0, 16.0}));
  EXPECT_TRUE(fig["data"][0]["showlegend"].get<bool>());
  EXPECT_FALSE(fig["data"][2]["showlegend"].get<bool>());  // one legend entry per series
  EXPECT_EQ(fig["layout"]["xaxis6"]["title"]["text"], "Feature fired?");  // bottom row
  EXPECT_FALSE(fig["layout"]["xaxis"].contains("title"));
  EXPECT_THROW(r::pair_counts_grid("p", {}), othrun::Error);
}

TEST(Figures, TopPairsTableLinksTheCounts) {
  const std::vector<r::PairCounts> pairs = {{485, 43, "", 0.3359, 1, 2, 3, 4, ""}};
  const auto figure = r::top_pairs_table("top", pairs, "pair_counts");
  EXPECT_EQ(figure.kind, "table");
  EXPECT_EQ(figure.related, std::vector<std::string>{"pair_counts"});
  const json trace = parse(figure)["data"][0];
  EXPECT_EQ(trace["type"], "table");
  EXPECT_EQ(trace["header"]["values"][1], "feature");
  EXPECT_EQ(trace["cells"]["values"][2][0], "F3");
  EXPECT_EQ(trace["cells"]["values"][3][0], "0.3359");
  EXPECT_EQ(trace["cells"]["values"][4][0], "pair_counts");
}

// A pair of another state than empty names it in the panel title and a table column; mixed
// states get neutral legend names.
TEST(Figures, PairCountsOfAState) {
  const r::PairCounts mine{7, 19, "", 0.5, 1, 2, 3, 4, "Mine"};
  const r::PairCounts theirs{8, 20, "", 0.4, 1, 2, 3, 4, "Theirs"};
  json fig = parse(r::pair_counts_grid("p", {mine}));
  EXPECT_EQ(fig["layout"]["annotations"][0]["text"], "F7 vs IsMine(C3)");
  EXPECT_EQ(fig["data"][0]["name"], "Mine");
  EXPECT_EQ(fig["data"][1]["name"], "Not Mine");
  fig = parse(r::pair_counts_grid("p", {mine, theirs}));
  EXPECT_EQ(fig["layout"]["annotations"][1]["text"], "F8 vs IsTheirs(C4)");
  EXPECT_EQ(fig["data"][0]["name"], "in state");
  EXPECT_EQ(fig["data"][3]["name"], "not in state");
  const json trace = parse(r::top_pairs_table("top", {mine}, "p"))["data"][0];
  EXPECT_EQ(trace["header"]["values"][3], "state");
  EXPECT_EQ(trace["cells"]["values"][3][0], "Mine");
  EXPECT_EQ(trace["cells"]["values"][5][0], "p");
}

TEST(Figures, SmallMultiplesOfLines) {
  r::PanelGrid grid;
  grid.title = "By width";
  grid.x_title = "width";
  grid.columns = 2;
  grid.log_x = true;
  const std::vector<r::Panel> panels = {{"a", {{"s", {1, 2}, {3, 4}, {}, ""}}},
                                        {"b", {{"s", {1, 2}, {5, 6}, {}, ""}}},
                                        {"c", {{"s", {1, 2}, {7, 8}, {}, ""}}}};
  const json fig = parse(r::small_multiples("g", r::PanelKind::Lines, grid, panels));
  ASSERT_EQ(fig["data"].size(), 3u);
  EXPECT_EQ(fig["data"][0]["mode"], "lines+markers");
  EXPECT_EQ(fig["data"][2]["xaxis"], "x3");
  EXPECT_EQ(fig["layout"]["xaxis3"]["type"], "log");
  EXPECT_EQ(fig["layout"]["height"], 90 + 2 * 170 + 85);  // margins + two rows of panels
  // A row not full: the x title sits on the lowest panel of each column.
  EXPECT_EQ(fig["layout"]["xaxis2"]["title"]["text"], "width");
  EXPECT_EQ(fig["layout"]["xaxis3"]["title"]["text"], "width");
  EXPECT_THROW(
      r::small_multiples("g", r::PanelKind::Lines, grid, {{"bad", {{"s", {1}, {}, {}, ""}}}}),
      othrun::Error);
}

TEST(Figures, LineScatterAndBars) {
  const r::Axes axes{"Loss", "step", "loss"};
  const json line = parse(r::line_chart("l", {{"train", {0, 1, 2}, {3, 2, 1}, {}, ""}}, axes));
  EXPECT_EQ(line["data"][0]["type"], "scatter");
  EXPECT_EQ(line["data"][0]["mode"], "lines");
  EXPECT_EQ(line["layout"]["xaxis"]["title"]["text"], "step");
  const json scatter = parse(r::scatter_plot("s", {{"pts", {0, 1}, {1, 0}, {"a", "b"}, ""}}, axes));
  EXPECT_EQ(scatter["data"][0]["mode"], "markers");
  EXPECT_EQ(scatter["data"][0]["text"], json({"a", "b"}));
  EXPECT_THROW(r::line_chart("l", {{"bad", {0, 1}, {1}, {}, ""}}, axes), othrun::Error);
  const json bars = parse(
      r::bar_chart("b", {"x", "y"}, {{"a", {}, {1, 2}, {}, ""}, {"b", {}, {3, 4}, {}, ""}}, axes));
  EXPECT_EQ(bars["data"].size(), 2u);
  EXPECT_EQ(bars["layout"]["barmode"], "group");
}

TEST(Figures, OthelloBoardMarksLastAndValidMoves) {
  r::Position position;
  position.cells[27] = -1, position.cells[28] = 1, position.cells[35] = 1, position.cells[36] = -1;
  position.last_move = 19;
  position.cells[19] = 1;
  position.valid_moves = {18, 20};
  const json fig = parse(r::othello_board("g", position, "Game 4 after ply 20"));
  expect_board(fig);
  EXPECT_EQ(fig["data"][0]["z"][3][3], -1);
  EXPECT_EQ(fig["data"][0]["z"][2][3], 1);
  EXPECT_EQ(fig["data"][0]["text"][3][3], "white");
  ASSERT_EQ(fig["data"].size(), 3u);
  EXPECT_EQ(fig["data"][1]["name"], "valid moves");
  EXPECT_EQ(fig["data"][1]["x"], json({"2", "4"}));
  EXPECT_EQ(fig["data"][1]["y"], json({"C", "C"}));
  EXPECT_EQ(fig["data"][2]["name"], "last move");
  EXPECT_EQ(fig["data"][2]["x"], json({"3"}));
}

TEST(Figures, SquareLabelsAndNames) {
  EXPECT_EQ(r::square_label(0), "A0");
  EXPECT_EQ(r::square_label(32), "E0");
  EXPECT_EQ(r::square_label(63), "H7");
  EXPECT_THROW(r::square_label(64), othrun::Error);
  EXPECT_THROW(r::board_heatmap("bad name", {}, "t"), othrun::Error);
}
