// Experiment reports: figures that steps store in their products, and the HTML report of a store.
//
// A figure is Plotly figure JSON ({"data": [...], "layout": {...}}) plus a caption, stored in the
// step's product under `figures/<name>` (see docs/report.md), so the store is the single source of
// truth and Python users load a figure with `plotly.io.from_json(attrs["plotly_json"])`.
//
// A step builds figures with the builders below and stores them with `write_figure`:
//
//   auto fig = othrun::report::board_heatmap("mean_board", board, "Mean board when L0N774 fires");
//   othrun::report::write_figure(ctx.output().root(), fig);
//
// `write_report` collects every figure of every product of a store into one self-contained HTML
// file.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace othrun {

class Group;
class Store;

namespace report {

// ---------------------------------------------------------------------------------------------
// Figures and their storage

struct Figure {
  std::string name;     // id within its product: letters, digits, '_', '-', '.'
  std::string kind;     // "heatmap", "histogram", "bar", "line", "scatter", "table", ...
  std::string title;    // also in the Plotly layout
  std::string caption;  // what the figure shows and how it was computed
  std::vector<std::string> related;  // figure ids: "name" (same product) or "label/name"
  std::string plotly_json;           // {"data": [...], "layout": {...}}
};

// Stores `figure` under `root/figures/<name>` (replacing one of the same name). Figures keep the
// order in which they were written. Throws othrun::Error on a bad name or invalid JSON.
void write_figure(Group& root, const Figure& figure);
// The figures stored under `root/figures`, in the order they were written; empty when none.
std::vector<Figure> read_figures(const Group& root);

// ---------------------------------------------------------------------------------------------
// Generic builders. Every builder returns a Figure with valid Plotly JSON; `caption` may be empty.

// 64 values, square index s = row * 8 + col (row A..H, column 0..7).
using Board = std::array<double, 64>;

enum class ColorScale {
  Blues,  // sequential, light (low) to dark blue (high), as plotly express "Blues"
  RdBu,   // diverging, red (low) - white - blue (high), as plotly express "RdBu"
};

struct HeatmapOptions {
  ColorScale scale = ColorScale::RdBu;
  std::optional<double> zmin, zmax;  // a missing end comes from the data (or the midpoint)
  std::optional<double> midpoint;    // diverging: the range is made symmetric around it
  std::array<bool, 64> masked{};     // masked squares are drawn blank
  std::vector<std::string> hover;    // optional per-square hover text (64 entries)
  std::string colorbar_title;
};

Figure board_heatmap(std::string name, const Board& values, std::string title,
                     const HeatmapOptions& options = {}, std::string caption = {});

enum class HistNorm { Count, Percent };

// One group of a histogram as counts per bin; the bins are shared by all groups.
struct BinnedGroup {
  std::string name;
  std::vector<double> counts;  // one per bin
};

struct Histogram {
  std::string title;
  std::string x_title;
  std::vector<double> edges;  // bin edges, counts.size() + 1, increasing
  std::vector<BinnedGroup> groups;
  HistNorm norm = HistNorm::Count;  // Percent: each group's counts as a percentage of its total
};

// Bins raw values per group into `bins` equal-width bins spanning all groups' values (a constant
// input gets one unit-wide range). For streaming analyses, fill Histogram::groups directly.
Histogram bin_values(std::string title, std::string x_title,
                     const std::vector<std::pair<std::string, std::vector<double>>>& groups,
                     int bins);

// Overlaid groups, drawn as bars over the bins (counts or percent).
Figure histogram(std::string name, const Histogram& histogram, std::string caption = {});

struct Series {
  std::string name;
  std::vector<double> x;  // line, scatter
  std::vector<double> y;
  std::vector<std::string> text;  // optional hover text per point
  std::string color;              // optional CSS colour
};

struct Axes {
  std::string title;
  std::string x_title;
  std::string y_title;
};

// Grouped bars: one bar per category per series (series.x is ignored, series.y per category).
Figure bar_chart(std::string name, const std::vector<std::string>& categories,
                 const std::vector<Series>& series, const Axes& axes, std::string caption = {});
Figure line_chart(std::string name, const std::vector<Series>& series, const Axes& axes,
                  std::string caption = {});
Figure scatter_plot(std::string name, const std::vector<Series>& series, const Axes& axes,
                    std::string caption = {});
// Small multiples: many small charts of the same kind in one compact figure, a grid of panels
// with `columns` per row. Panels share the series names and colours (one legend) and the x axis
// title; each has its own y range. Use it instead of writing many near-identical figures.
struct Panel {
  std::string title;
  std::vector<Series> series;  // bars: y per category (x ignored); lines and markers: x and y
};
struct PanelGrid {
  std::string title;
  std::string x_title, y_title;
  std::vector<std::string> categories;  // bars: the categories every panel shares
  int columns = 5;
  int panel_height = 170;  // pixels per row of panels
  bool log_x = false;      // lines: a logarithmic x axis
};
enum class PanelKind { Bars, Lines };  // Lines draws lines with markers
Figure small_multiples(std::string name, PanelKind kind, const PanelGrid& grid,
                       const std::vector<Panel>& panels, std::string caption = {});
// A table of text cells (rows of header.size() entries). The report shows it as an HTML table.
Figure table(std::string name, std::string title, const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows, std::string caption = {});

// ---------------------------------------------------------------------------------------------
// Othello figures. (Each plugin's notebook figures live with it: plugins/*/notebook_figure*.hpp.)

// "A0".."H7": row letter and column digit of square index 0..63.
std::string square_label(int square);

// An Othello position: cells +1 black, -1 white, 0 empty; the move just played (square index,
// or -1) ringed in red; valid moves dotted.
struct Position {
  std::array<std::int8_t, 64> cells{};
  int last_move = -1;
  std::vector<int> valid_moves;
};
Figure othello_board(std::string name, const Position& position, std::string title,
                     std::string caption = {});

// ---------------------------------------------------------------------------------------------
// The HTML report

struct ReportOptions {
  // plotly.min.js to inline; unset: find_plotly_js(). A missing file gives a report without plots
  // (tables, captions and provenance still render) and a note on how to install plotly.js.
  std::optional<std::filesystem::path> plotly_js;
};

// Where plotly.min.js is: $OTHRUN_PLOTLY_JS, else the installed share/othrun/plotly.min.js beside
// this library, else the path configured at build time; nullopt when none exists.
std::optional<std::filesystem::path> find_plotly_js();

// Writes one self-contained HTML page with every product of `store`: config, provenance, timing
// and figures. An empty `experiment_name` takes the name the products record (othrun.experiment),
// else the store's file name. Written atomically (temporary file, then rename).
void write_report(const Store& store, const std::string& experiment_name,
                  const std::filesystem::path& out_html, const ReportOptions& options = {});

// The report written beside a store: runs/x.h5 -> runs/x.report.html.
std::filesystem::path report_path_for(const std::filesystem::path& store_index);

}  // namespace report
}  // namespace othrun
