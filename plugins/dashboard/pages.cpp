#include "pages.hpp"

#include "assets.hpp"
#include "json_text.hpp"

#include <othrun/error.hpp>
#include <othrun/othello.hpp>

#include <fmt/format.h>

#include <cmath>
#include <fstream>

namespace fs = std::filesystem;

namespace othrun::dashboard {

namespace {

const char* state_name(int state) {
  static const char* const names[] = {"empty", "theirs", "mine"};
  return names[state];
}

void float_array(JsonText& j, const float* values, std::size_t n, int digits = 5) {
  j.begin_array();
  for (std::size_t i = 0; i < n; ++i) j.value(double{values[i]}, digits);
  j.end_array();
}

void write_summary(JsonText& j, const UnitSummary& s) {
  j.key("kept").value(s.kept).key("active").value(s.active);
  j.key("density").value(s.density).key("mean").value(s.mean);
  j.key("min").value(double{s.min}).key("max").value(double{s.max});
  j.key("edges").array<double>(s.edges);
  j.key("counts").array<std::int64_t>(s.counts);
  j.key("bounds");
  float_array(j, s.bounds.data(), s.bounds.size());
  j.key("states").begin_array();
  for (const StateScore& t : s.top_states) {
    j.begin_object();
    j.key("square").value(t.column / 3).key("state").value(state_name(t.column % 3));
    j.key("firing_corr").value(double{t.firing_corr}).key("act_corr").value(double{t.act_corr});
    j.key("f1").value(double{t.f1}).key("auroc").value(double{t.auroc});
    j.end_object();
  }
  j.end_array();
}

void write_example(JsonText& j, const ExampleView& e) {
  j.begin_object();
  j.key("game").value(e.game).key("position").value(e.position);
  j.key("value").value(double{e.example.value}).key("group").value(e.example.group);
  j.key("repeats").value(static_cast<std::int64_t>(e.example.repeats));
  j.key("board").value(e.board).key("move").value(e.move);
  j.key("mover").value(e.mover).key("to_move").value(e.to_move);
  j.key("probs");
  if (e.probs.empty()) {
    j.null();
  } else {
    // In units of 1e-4, rounded: a colour on the page; most moves are far below it (one char).
    j.begin_array();
    for (const float p : e.probs) {
      if (std::isnan(p)) {
        j.null();
      } else {
        j.value(static_cast<std::int64_t>(std::lround(double{p} * 1e4)));
      }
    }
    j.end_array();
  }
  j.key("spark");
  float_array(j, e.spark.data(), e.spark.size(), 4);
  j.end_object();
}

}  // namespace

PageWriter::PageWriter(fs::path final_dir)
    : final_dir_(std::move(final_dir)), partial_dir_(final_dir_.string() + ".partial") {
  fs::remove_all(partial_dir_);
  fs::remove_all(final_dir_.string() + ".old");
  fs::create_directories(partial_dir_ / "data" / "u");
}

PageWriter::~PageWriter() {
  if (finished_) return;
  std::error_code ignored;  // a failing step's leftovers; the next run removes them otherwise
  fs::remove_all(partial_dir_, ignored);
}

void PageWriter::write_file(const fs::path& relative, const std::string& text) {
  const fs::path path = partial_dir_ / relative;
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw Error("cannot write dashboard file " + path.string());
  bytes_ += text.size();
}

void PageWriter::write_unit(const UnitView& unit) {
  if (unit.index / kUnitsPerFile != chunk_ && !chunk_text_.empty()) flush_chunk();
  chunk_ = unit.index / kUnitsPerFile;
  JsonText j;
  j.begin_object();
  j.key("index").value(unit.index).key("name").value(unit.name);
  write_summary(j, unit.summary);
  j.key("examples").begin_array();
  for (const ExampleView& e : unit.examples) write_example(j, e);
  j.end_array();
  for (const auto& [name, values] :
       {std::pair{"effect", unit.effect}, std::pair{"cos_blank", unit.cos_blank},
        std::pair{"cos_mine", unit.cos_mine}}) {
    j.key(name);
    if (values) {
      float_array(j, values, 64);
    } else {
      j.null();
    }
  }
  j.key("ablation");
  if (unit.ablation) {
    const AblationView& a = *unit.ablation;
    j.begin_object();
    j.key("rows_all").value(a.rows_all).key("rows_fired").value(a.rows_fired);
    j.key("logprob_fired").array<double>(a.logprob_fired);
    j.key("logprob_all").array<double>(a.logprob_all);
    j.key("flips_fired");
    if (a.flips_fired.empty()) {
      j.null();
    } else {
      j.array<double>(a.flips_fired);
    }
    j.end_object();
  } else {
    j.null();
  }
  j.end_object();
  chunk_text_ += chunk_text_.empty() ? "othrunDashboard.units([\n" : ",\n";
  chunk_text_ += j.str();

  const auto at = static_cast<std::size_t>(unit.index);
  if (rows_.size() <= at) rows_.resize(at + 1);
  IndexRow row{unit.name, unit.summary.density, unit.summary.mean, unit.summary.max};
  if (!unit.summary.top_states.empty()) {
    const StateScore& top = unit.summary.top_states.front();
    row.column = top.column;
    row.firing_corr = top.firing_corr;
    row.f1 = top.f1;
    row.auroc = top.auroc;
  }
  rows_[at] = row;
}

void PageWriter::flush_chunk() {
  write_file(fs::path("data") / "u" / fmt::format("{}.js", chunk_), chunk_text_ + "]);\n");
  chunk_text_.clear();
}

void PageWriter::finish(const DashboardMeta& meta) {
  if (!chunk_text_.empty()) flush_chunk();
  JsonText m;
  m.raw("othrunDashboard.meta(");
  m.begin_object();
  m.key("label").value(meta.label).key("title").value(meta.title);
  m.key("report").value(meta.report);
  m.key("description").value(meta.description).key("kind").value(meta.kind);
  m.key("units").value(meta.units).key("games").value(meta.games).key("rows").value(meta.rows);
  m.key("positions_first").value(meta.positions_first);
  m.key("positions_count").value(meta.positions_count);
  m.key("state_source").value(meta.state_source);
  m.key("probs_source").value(meta.probs_source).key("probs_note").value(meta.probs_note);
  m.key("direction_source").value(meta.direction_source);
  m.key("direction_note").value(meta.direction_note);
  m.key("has_effect").value(meta.has_effect).key("has_cosines").value(meta.has_cosines);
  m.key("ablation_source").value(meta.ablation_source);
  m.key("ablation_note").value(meta.ablation_note);
  m.key("groups").value(meta.options.groups).key("bins").value(meta.options.bins);
  m.key("units_per_file").value(kUnitsPerFile);
  m.end_object();
  m.raw(");\n");
  write_file(fs::path("data") / "meta.js", m.str());

  // The index as columns (compact: one array per column, nulls for units not written).
  JsonText j;
  j.raw("othrunDashboard.index(");
  j.begin_object();
  auto column = [&](const char* name, auto get) {
    j.key(name).begin_array();
    for (const auto& row : rows_) {
      if (row) {
        get(*row);
      } else {
        j.null();
      }
    }
    j.end_array();
  };
  column("name", [&](const IndexRow& r) { j.value(r.name); });
  column("density", [&](const IndexRow& r) { j.value(r.density); });
  column("mean", [&](const IndexRow& r) { j.value(r.mean); });
  column("max", [&](const IndexRow& r) { j.value(double{r.max}); });
  column("square", [&](const IndexRow& r) { j.value(r.column < 0 ? -1 : r.column / 3); });
  column("state", [&](const IndexRow& r) { j.value(r.column < 0 ? -1 : r.column % 3); });
  column("firing_corr", [&](const IndexRow& r) { j.value(double{r.firing_corr}); });
  column("f1", [&](const IndexRow& r) { j.value(double{r.f1}); });
  column("auroc", [&](const IndexRow& r) { j.value(double{r.auroc}); });
  j.end_object();
  j.raw(");\n");
  write_file(fs::path("data") / "index.js", j.str());

  write_file("index.html", assets::kIndexHtml);
  write_file("unit.html", assets::kUnitHtml);
  write_file("dashboard.js", assets::kDashboardJs);
  write_file("dashboard.css", assets::kDashboardCss);

  // Replace the previous folder: the old one is moved aside first, so a failure leaves one of
  // the two complete folders in place.
  const fs::path old = final_dir_.string() + ".old";
  if (fs::exists(final_dir_)) fs::rename(final_dir_, old);
  fs::rename(partial_dir_, final_dir_);
  finished_ = true;
  fs::remove_all(old);
}

}  // namespace othrun::dashboard
