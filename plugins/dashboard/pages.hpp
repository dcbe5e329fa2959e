// Writes a dashboard's folder: index.html and unit.html (static pages, the same for every
// dashboard), and the data they load lazily with <script> tags (file:// forbids fetch()):
//   data/meta.js       what the units are and which sections have data (or why not)
//   data/index.js      one row per unit for the index table
//   data/u/<c>.js      everything the views of units 16c .. 16c + 15 draw (files of 16 units:
//                      1,536 small files cost more to create than to load 16 units' data)
// The folder is written as <dir>.partial and renamed into place when complete (docs/dashboards.md).
#pragma once

#include "unit_summary.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace othrun::dashboard {

struct ExampleView {
  Example example;
  std::uint64_t game = 0;
  std::int64_t position = 0;
  std::string board;         // 64 chars: 'b' black, 'w' white, '.' empty (the true board)
  int move = -1;             // square of the move just played (-1: none)
  int mover = 0;             // +1 black, -1 white played it
  int to_move = 0;           // +1 black, -1 white to move next, 0 game over
  std::vector<float> probs;  // [64] next-move probabilities (NaN centre), empty when unavailable
  std::vector<float> spark;  // the unit's value at each cached position of the game (NaN past end)
};

// One feature's effects in a sae_intervention product (its features/index entry k).
struct AblationView {
  std::int64_t rows_all = 0, rows_fired = 0;
  std::vector<double> logprob_fired;  // [64] mean log-prob change where the feature fired
  std::vector<double> logprob_all;    // [64] over every edited row
  std::vector<double> flips_fired;    // [64] probe argmax flip rate where it fired (empty: none)
};

struct UnitView {
  std::int64_t index = 0;
  std::string name;
  UnitSummary summary;
  std::vector<ExampleView> examples;
  const float* effect = nullptr;     // [64] or null
  const float* cos_blank = nullptr;  // [64] or null
  const float* cos_mine = nullptr;   // [64] or null
  std::optional<AblationView> ablation;
};

// Page-wide facts; a `*_note` says why a section is empty (shown on the page as written).
struct DashboardMeta {
  std::string label, title, description, kind;  // kind: feature, neuron, probe
  std::string report;  // the experiment's report.html, relative to the pages
  std::int64_t units = 0, positions_first = 0, positions_count = 0;
  std::uint64_t games = 0, rows = 0;
  std::string state_source;  // where the board-state statistics come from
  std::string probs_source, probs_note;
  std::string direction_source, direction_note;
  bool has_effect = false, has_cosines = false;
  std::string ablation_source, ablation_note;
  SummaryOptions options;
};

inline constexpr std::int64_t kUnitsPerFile = 16;

class PageWriter {
 public:
  // Writes into `final_dir` + ".partial" (emptied first).
  explicit PageWriter(std::filesystem::path final_dir);
  ~PageWriter();  // removes the .partial folder unless finish() completed
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;
  void write_unit(const UnitView& unit);  // in increasing unit order
  // Writes the index, meta and pages, then replaces `final_dir` with the finished folder.
  void finish(const DashboardMeta& meta);
  // Bytes written so far (data and pages).
  std::uint64_t bytes() const { return bytes_; }

 private:
  void write_file(const std::filesystem::path& relative, const std::string& text);
  void flush_chunk();

  struct IndexRow {
    std::string name;
    double density = 0, mean = 0;
    float max = 0;
    int column = -1;
    float firing_corr = 0, f1 = 0, auroc = 0;
  };
  std::filesystem::path final_dir_, partial_dir_;
  std::vector<std::optional<IndexRow>> rows_;
  std::uint64_t bytes_ = 0;
  std::int64_t chunk_ = 0;
  bool finished_ = false;
  std::string chunk_text_;
};

}  // namespace othrun::dashboard
