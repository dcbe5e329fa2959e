// The self-contained HTML report of a store: contents, per-step provenance, config, timing and
// every figure, with plotly.min.js inlined so the page needs no network.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

#include <othrun/error.hpp>
#include <othrun/progress.hpp>
#include <othrun/store.hpp>

#include "report/figure_json.hpp"
#include "report/html_util.hpp"
#include "report/page_assets.hpp"
#include "report/report_model.hpp"
#include "runtime/fault.hpp"

#ifndef OTHRUN_PLOTLY_VERSION
#define OTHRUN_PLOTLY_VERSION "2.35.3"
#endif

namespace fs = std::filesystem;

namespace othrun::report {
namespace {

using html::escape;
using Out = std::back_insert_iterator<std::string>;

// The script text of plotly.min.js, or empty when it cannot be inlined safely.
std::string load_plotly(const ReportOptions& options) {
  const std::optional<fs::path> path = options.plotly_js ? options.plotly_js : find_plotly_js();
  if (!path) return {};
  std::ifstream in(*path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  std::string script = text.str();
  std::string lower = script;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Such text would end the inline <script> element early.
  if (lower.find("</script") != std::string::npos) return {};
  return script;
}

// "name" names a figure of the same product; "label/name" one of another product.
std::string resolve_related(const std::string& label, const std::string& id) {
  const auto slash = id.find('/');
  return slash == std::string::npos
             ? html::figure_anchor(label, id)
             : html::figure_anchor(id.substr(0, slash), id.substr(slash + 1));
}

void write_contents(Out out, const std::vector<StepReport>& steps) {
  fmt::format_to(out,
                 "<nav><h2>Contents</h2><table><tr><th>step</th><th>plugin</th>"
                 "<th>seconds</th><th>figures</th></tr>\n");
  for (const auto& step : steps) {
    fmt::format_to(out,
                   "<tr><td><a href=\"#{}\">{}</a>{}</td><td>{}</td><td class=\"num\">{}</td><td>",
                   html::step_anchor(step.label), escape(step.label),
                   step.stale.empty() ? "" : " <span class=\"stale\">STALE</span>",
                   escape(step.plugin), step.seconds ? fmt::format("{:.2f}", *step.seconds) : "");
    for (size_t i = 0; i < step.figures.size(); ++i) {
      const auto& figure = step.figures[i];
      fmt::format_to(out, "{}<a href=\"#{}\">{}</a>", i ? ", " : "",
                     html::figure_anchor(step.label, figure.name),
                     escape(figure.title.empty() ? figure.name : figure.title));
    }
    fmt::format_to(out, "</td></tr>\n");
  }
  fmt::format_to(out, "</table></nav>\n");
}

void write_provenance(Out out, const StepReport& step) {
  auto row = [&out](const char* key, const std::string& value) {
    fmt::format_to(out, "<tr><th>{}</th><td>{}</td></tr>\n", key, escape(value));
  };
  fmt::format_to(out, "<table class=\"provenance\">\n");
  row("plugin", step.plugin + " " + step.plugin_version);
  row("framework revision", step.framework_revision);
  row("started", step.started);
  row("finished", step.finished);
  row("seconds", step.seconds ? fmt::format("{:.3f}", *step.seconds) : "");
  row("product id", step.product_id);
  fmt::format_to(out, "<tr><th>inputs</th><td>");
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    const std::string& input = step.inputs[i];
    const std::string label = input.substr(0, input.find(':'));
    fmt::format_to(out, "{}<a href=\"#{}\">{}</a>", i ? "<br>" : "", html::step_anchor(label),
                   escape(input));
  }
  fmt::format_to(out, "</td></tr>\n</table>\n");
  fmt::format_to(out, "<details open><summary>config</summary><pre>{}</pre></details>\n",
                 escape(step.config));
}

// Table figures are plain HTML, so they read without plotly; a cell naming a related figure
// links to it.
void write_table(Out out, const std::string& label, const Figure& figure) {
  const auto json = detail::json::parse(figure.plotly_json);
  const auto& trace = json.at("data").at(0);
  const auto& header = trace.at("header").at("values");
  const auto& columns = trace.at("cells").at("values");
  fmt::format_to(out, "<table class=\"figure-table\"><tr>");
  for (const auto& cell : header)
    fmt::format_to(out, "<th>{}</th>", escape(cell.get<std::string>()));
  fmt::format_to(out, "</tr>\n");
  const size_t rows = columns.empty() ? 0 : columns.at(0).size();
  for (size_t r = 0; r < rows; ++r) {
    fmt::format_to(out, "<tr>");
    for (const auto& column : columns) {
      const std::string text =
          column.at(r).is_string() ? column.at(r).get<std::string>() : column.at(r).dump();
      const bool linked =
          std::find(figure.related.begin(), figure.related.end(), text) != figure.related.end();
      if (linked) {
        fmt::format_to(out, "<td><a href=\"#{}\">{}</a></td>", resolve_related(label, text),
                       escape(text));
      } else {
        fmt::format_to(out, "<td>{}</td>", escape(text));
      }
    }
    fmt::format_to(out, "</tr>\n");
  }
  fmt::format_to(out, "</table>\n");
}

void write_figure_html(Out out, const std::string& label, const Figure& figure, size_t index) {
  const std::string anchor = html::figure_anchor(label, figure.name);
  fmt::format_to(out, "<figure id=\"{}\" data-kind=\"{}\">\n", anchor, escape(figure.kind));
  if (figure.kind == "table") {
    fmt::format_to(out, "<h3>{}</h3>\n", escape(figure.title));
    write_table(out, label, figure);
  } else {
    fmt::format_to(out, "<div class=\"plot\" data-figure=\"{}\" data-anchor=\"{}\"></div>\n", index,
                   anchor);
    fmt::format_to(out, "<script type=\"application/json\" id=\"data-{}\">{}</script>\n", index,
                   html::script_safe_json(figure.plotly_json));
  }
  fmt::format_to(out, "<figcaption><a href=\"#{}\">{}/{}</a>: <b>{}</b>{}{}</figcaption>\n", anchor,
                 escape(label), escape(figure.name), escape(figure.title),
                 figure.caption.empty() ? "" : " &mdash; ", escape(figure.caption));
  if (!figure.related.empty()) {
    fmt::format_to(out, "<p class=\"related\">Related:");
    for (const auto& id : figure.related) {
      fmt::format_to(out, " <a href=\"#{}\">{}</a>", resolve_related(label, id), escape(id));
    }
    fmt::format_to(out, "</p>\n");
  }
  fmt::format_to(out, "</figure>\n");
}

void write_step(Out out, const StepReport& step, size_t& figure_index) {
  fmt::format_to(
      out, "<section class=\"step\" id=\"{}\">\n<h2>{} <span class=\"plugin\">{} {}</span></h2>\n",
      html::step_anchor(step.label), escape(step.label), escape(step.plugin),
      escape(step.plugin_version));
  if (!step.stale.empty()) {
    fmt::format_to(out,
                   "<p class=\"stale\">STALE &mdash; {}. Its figures are not what the current "
                   "inputs give; rerun the experiment to update it.</p>\n",
                   escape(step.stale));
  }
  if (!step.error.empty()) {
    fmt::format_to(out, "<p class=\"errors\">This product could not be read: {}</p>\n",
                   escape(step.error));
  }
  write_provenance(out, step);
  for (const auto& figure : step.figures)
    write_figure_html(out, step.label, figure, figure_index++);
  fmt::format_to(out, "</section>\n");
}

void write_plotly_note(Out out) {
  fmt::format_to(out,
                 "<div id=\"plotly-missing\" class=\"note\" hidden><b>Figures need plotly.js</b>, "
                 "which was not found when this report was written. Install it with "
                 "<code>scripts/setup.sh</code> (or <code>npm install --prefix third_party "
                 "plotly.js-dist-min@{}</code>), or set <code>OTHRUN_PLOTLY_JS</code> to a "
                 "plotly.min.js, then rewrite this report with <code>othrun --report "
                 "STORE.h5</code>. Tables, captions and provenance are shown below.</div>\n",
                 OTHRUN_PLOTLY_VERSION);
}

std::string render_page(const Store& store, const std::string& experiment_name,
                        const std::vector<StepReport>& steps, const std::string& plotly) {
  std::string page;
  Out out(page);
  size_t figures = 0;
  for (const auto& step : steps) figures += step.figures.size();
  fmt::format_to(out,
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>othrun report: {}</title>\n<style>{}</style>\n",
                 escape(experiment_name), assets::kStyle);
  fmt::format_to(out, "<script>{}</script>\n", assets::kErrorHookScript);
  if (!plotly.empty()) fmt::format_to(out, "<script>{}</script>\n", plotly);
  fmt::format_to(out, "</head>\n<body data-figures=\"{}\">\n<h1>{}</h1>\n", figures,
                 escape(experiment_name));
  fmt::format_to(out, "<p class=\"meta\">Store <code>{}</code>: {} step{}, {} figure{}.</p>\n",
                 escape(store.index_path().string()), steps.size(), steps.size() == 1 ? "" : "s",
                 figures, figures == 1 ? "" : "s");
  write_plotly_note(out);
  fmt::format_to(out, "<div id=\"render-errors\" class=\"errors\" hidden></div>\n");
  write_contents(out, steps);
  size_t figure_index = 0;
  for (const auto& step : steps) write_step(out, step, figure_index);
  fmt::format_to(out, "<script>{}</script>\n</body>\n</html>\n", assets::kRenderScript);
  return page;
}

// The experiment a store belongs to, as its products record it; else the store's file name.
std::string stored_experiment_name(const Store& store) {
  for (const auto& label : store.labels()) {
    try {
      const Attributes attrs = store.open(label).root().attrs();
      if (attrs.has("othrun.experiment")) return attrs.get_string("othrun.experiment");
    } catch (const std::exception&) {
      // An unreadable product gets its own note in the report.
    }
  }
  return store.index_path().stem().string();
}

}  // namespace

void write_report(const Store& store, const std::string& experiment_name, const fs::path& out_html,
                  const ReportOptions& options) {
  const std::string name =
      experiment_name.empty() ? stored_experiment_name(store) : experiment_name;
  const std::string page = render_page(store, name, collect_steps(store), load_plotly(options));
  if (out_html.has_parent_path()) fs::create_directories(out_html.parent_path());
  // Written beside the old report and renamed over it: a failure or Ctrl-C keeps the old one.
  const fs::path temporary = out_html.string() + ".tmp";
  try {
    {
      std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
      file << page;
      if (!file.flush()) throw Error("cannot write report " + temporary.string());
    }
    fault::point("report.written");
    check_interrupt();
    fs::rename(temporary, out_html);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

}  // namespace othrun::report
