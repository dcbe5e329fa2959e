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
#include "report/sae_comparison.hpp"
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

std::string status_class(const std::string& status) {
  std::string out = "status status-";
  for (char c : status) out += (c == ' ' || c == '?') ? '-' : c;
  return out;
}

std::string status_badge(const StepReport& step) {
  return fmt::format("<span class=\"{}\" title=\"{}\">{}</span>", status_class(step.status),
                     escape(step.status_detail), escape(step.status));
}

// A link from the report's folder to `target`: relative when both are on one tree, so the store
// and its report can move together.
std::string relative_link(const fs::path& target, const fs::path& report_dir) {
  const fs::path absolute = fs::absolute(target).lexically_normal();
  const fs::path relative = absolute.lexically_relative(report_dir.lexically_normal());
  return relative.empty() ? "file://" + absolute.generic_string() : relative.generic_string();
}

// Each step's figures, its dashboards and its row of the SAE comparison, linked.
void write_contents(Out out, const std::vector<StepReport>& steps,
                    const std::vector<SaeSummary>& saes, const fs::path& product_dir,
                    const fs::path& report_dir) {
  fmt::format_to(out,
                 "<nav><h2>Steps</h2><p class=\"meta\">In the experiment's order, as its last run "
                 "went; a status other than <i>ran</i> or <i>up to date</i> is explained in the "
                 "step's section.</p><table class=\"contents\"><tr><th>step</th><th>plugin</th>"
                 "<th>status</th><th>seconds</th><th>figures and pages</th></tr>\n");
  for (const auto& step : steps) {
    fmt::format_to(out,
                   "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td "
                   "class=\"num\">{}</td><td>",
                   html::step_anchor(step.label), escape(step.label), escape(step.plugin),
                   status_badge(step), step.seconds ? fmt::format("{:.2f}", *step.seconds) : "");
    std::vector<std::string> links;
    for (const auto& figure : step.figures) {
      links.push_back(fmt::format("<a href=\"#{}\">{}</a>",
                                  html::figure_anchor(step.label, figure.name),
                                  escape(figure.title.empty() ? figure.name : figure.title)));
    }
    if (!step.dashboard_index.empty()) {
      links.push_back(
          fmt::format("<a href=\"{}\">dashboards</a>",
                      escape(relative_link(product_dir / step.dashboard_index, report_dir))));
    }
    const bool compared =
        saes.size() >= 2 && std::any_of(saes.begin(), saes.end(),
                                        [&](const auto& sae) { return sae.label == step.label; });
    if (compared) links.push_back("<a href=\"#sae-comparison\">SAEs compared</a>");
    for (size_t i = 0; i < links.size(); ++i) fmt::format_to(out, "{}{}", i ? ", " : "", links[i]);
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
}

std::string metric_text(const Metric& metric) {
  if (metric.integer) return fmt::format("{}", static_cast<std::int64_t>(metric.value));
  return fmt::format("{:.6g}", metric.value);
}

// The numbers the product stores as scalar attributes, with full precision in data-value.
void write_metrics(Out out, const std::vector<Metric>& metrics) {
  if (metrics.empty()) return;
  fmt::format_to(out, "<table class=\"metrics\"><tr><th>key metric</th><th>value</th></tr>\n");
  for (const auto& metric : metrics) {
    fmt::format_to(out,
                   "<tr><td>{}</td><td class=\"num\" data-metric=\"{}\" "
                   "data-value=\"{:.17g}\">{}</td></tr>\n",
                   escape(metric.name), escape(metric.name), metric.value, metric_text(metric));
  }
  fmt::format_to(out, "</table>\n");
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
  // The title is HTML above the plot, not in it: plotly's toolbar then has the plot's top margin
  // to itself (the render script drops the layout's title).
  fmt::format_to(out, "<h3 class=\"figure-title\">{}</h3>\n", escape(figure.title));
  if (figure.kind == "table") {
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

// What the step's status means for the reader, above its provenance and figures.
void write_status_note(Out out, const StepReport& step) {
  const std::string kept = step.in_store
                               ? "The product below is the one kept from an earlier run; it is not "
                                 "what the current experiment gives."
                               : "It has no product in the store.";
  if (step.status == "failed" || step.status == "interrupted") {
    fmt::format_to(
        out,
        "<div class=\"errors step-error\"><b>This step {} in the last run.</b>{}<p>{}</p>"
        "</div>\n",
        escape(step.status),
        step.status_detail.empty() ? std::string()
                                   : "<pre>" + escape(step.status_detail) + "</pre>",
        kept);
  } else if (step.status == "not run") {
    fmt::format_to(out, "<p class=\"note\"><b>Not run in the last run</b> ({}). {}</p>\n",
                   escape(step.status_detail), kept);
  } else if (step.status == "stale" || step.status == "stale?") {
    fmt::format_to(out,
                   "<p class=\"stale\">STALE &mdash; {}. Built from an older input: its figures "
                   "and numbers are not what the current inputs give; rerun the experiment to "
                   "update it.</p>\n",
                   escape(step.status_detail));
  } else if (step.status == "missing") {
    fmt::format_to(out,
                   "<div class=\"errors\"><b>Its product is not in the store</b> ({}), though "
                   "the last run built or kept it: rerun the experiment.</div>\n",
                   escape(step.status_detail));
  } else if (step.status == "earlier run") {
    fmt::format_to(out,
                   "<p class=\"note\">Not a step of the last run (removed from the experiment, or "
                   "the store was written by another one); shown as it was built.</p>\n");
  }
}

void write_dashboard_link(Out out, const StepReport& step, const fs::path& product_dir,
                          const fs::path& report_dir) {
  if (step.dashboard_index.empty()) return;
  const fs::path index = product_dir / step.dashboard_index;
  std::error_code ec;
  const bool present = fs::exists(index, ec);
  fmt::format_to(out, "<p class=\"dashboard\">Dashboards: <a href=\"{}\">{}</a>{}</p>\n",
                 escape(relative_link(index, report_dir)),
                 escape(step.dashboard_title.empty() ? step.label : step.dashboard_title),
                 present ? "" : " (missing: the page is not beside the store)");
}

void write_step(Out out, const StepReport& step, size_t& figure_index, const fs::path& product_dir,
                const fs::path& report_dir) {
  fmt::format_to(out,
                 "<section class=\"step\" id=\"{}\" data-status=\"{}\">\n<h2>{} <span "
                 "class=\"plugin\">{} {}</span> {}</h2>\n",
                 html::step_anchor(step.label), escape(step.status), escape(step.label),
                 escape(step.plugin), escape(step.plugin_version), status_badge(step));
  write_status_note(out, step);
  if (!step.error.empty()) {
    fmt::format_to(out, "<p class=\"errors\">This product could not be read: {}</p>\n",
                   escape(step.error));
  }
  if (step.in_store) {
    fmt::format_to(out, "<div class=\"facts\">\n");
    write_provenance(out, step);
    write_metrics(out, step.metrics);
    fmt::format_to(out, "</div>\n");
    write_dashboard_link(out, step, product_dir, report_dir);
    fmt::format_to(out, "<details><summary>config</summary><pre>{}</pre></details>\n",
                   escape(step.config));
    for (const auto& figure : step.figures)
      write_figure_html(out, step.label, figure, figure_index++);
  }
  fmt::format_to(out, "</section>\n");
}

// Every product with feature dashboards, linked at the top of the page.
void write_dashboards(Out out, const std::vector<StepReport>& steps, const fs::path& product_dir,
                      const fs::path& report_dir) {
  std::string items;
  for (const auto& step : steps) {
    if (step.dashboard_index.empty()) continue;
    items += fmt::format("<li><a href=\"{}\">{}</a> (step <a href=\"#{}\">{}</a>)</li>\n",
                         escape(relative_link(product_dir / step.dashboard_index, report_dir)),
                         escape(step.dashboard_title.empty() ? step.label : step.dashboard_title),
                         html::step_anchor(step.label), escape(step.label));
  }
  if (items.empty()) return;
  fmt::format_to(out,
                 "<section id=\"dashboards\"><h2>Feature dashboards</h2><ul>\n{}</ul></section>\n",
                 items);
}

// The SAEs of the store side by side: a table of their stored metrics and one compact figure.
void write_sae_comparison(Out out, const std::vector<SaeSummary>& saes, size_t& figure_index) {
  if (saes.size() < 2) return;
  fmt::format_to(
      out,
      "<section id=\"sae-comparison\"><h2>SAEs compared</h2>\n"
      "<table class=\"sae-comparison\"><tr><th>step</th><th>status</th><th>hook</th>"
      "<th>features</th><th>positions</th><th>rows</th><th>MSE</th><th>explained variance</th>"
      "<th>L0</th><th>dead features</th><th>loss increase, spliced</th>"
      "</tr>\n");
  bool missing_loss = false;
  for (const auto& sae : saes) {
    auto cell = [](const char* key, double value, const std::string& text) {
      return fmt::format("<td class=\"num\" data-key=\"{}\" data-value=\"{:.17g}\">{}</td>", key,
                         value, text);
    };
    std::string loss = "<td class=\"na\">not stored</td>";
    missing_loss = missing_loss || !sae.loss_clean || !sae.loss_spliced;
    if (sae.loss_clean && sae.loss_spliced) {
      loss =
          cell("loss_increase", *sae.loss_spliced - *sae.loss_clean,
               fmt::format("{:+.4f} ({:.4f} &rarr; {:.4f}{})", *sae.loss_spliced - *sae.loss_clean,
                           *sae.loss_clean, *sae.loss_spliced,
                           sae.loss_games ? fmt::format(", {:.0f} games", *sae.loss_games)
                                          : std::string()));
    }
    fmt::format_to(out,
                   "<tr data-step=\"{}\"><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td>",
                   escape(sae.label), html::step_anchor(sae.label), escape(sae.label),
                   escape(sae.status), escape(sae.hook));
    fmt::format_to(
        out, "{}<td>{}</td>{}{}{}{}{}{}</tr>\n",
        cell("d_sae", sae.d_sae, fmt::format("{:.0f}", sae.d_sae)),
        escape(sae.positions.empty() ? "all" : sae.positions),
        cell("rows", sae.rows, fmt::format("{:.0f}", sae.rows)),
        cell("mse", sae.mse, fmt::format("{:.4f}", sae.mse)),
        cell("explained_variance", sae.explained_variance,
             fmt::format("{:.4f}", sae.explained_variance)),
        cell("l0", sae.l0, fmt::format("{:.2f}", sae.l0)),
        cell("dead_features", sae.dead_features, fmt::format("{:.0f}", sae.dead_features)), loss);
  }
  const bool same_positions = std::all_of(saes.begin(), saes.end(), [&saes](const SaeSummary& s) {
    return s.positions == saes.front().positions;
  });
  fmt::format_to(out,
                 "</table>\n<p class=\"meta\">{}Metrics of each <code>sae_encode</code> step "
                 "(<code>metrics/</code> attributes) over the rows of its input at the positions "
                 "shown (its <code>metric_positions</code>: compare SAEs on the positions they "
                 "were trained on, elsewhere the activations can lie far outside their training "
                 "distribution): MSE is the mean squared reconstruction error per element; "
                 "explained variance 1 - SSE / total SS; L0 the mean number of features firing "
                 "per row; dead features fire on none of those rows.{}</p>\n",
                 same_positions ? ""
                                : "<b class=\"stale\">The rows cover different positions: their "
                                  "metrics are not comparable.</b> ",
                 missing_loss
                     ? " <b>Not available</b> where marked <i>not stored</i>: the next-move loss "
                       "with the reconstruction spliced in, which needs the model; that "
                       "<code>sae_encode</code> step was not given its <code>model</code> "
                       "(docs/analyses.md, \"Spliced loss\")."
                     : " Loss increase, spliced: the mean next-move cross-entropy (nats) with the "
                       "SAE's reconstruction replacing the activation at its hook over the "
                       "positions shown, minus the clean one (clean &rarr; spliced beside it, "
                       "over every position of the games shown).");
  write_figure_html(out, "report", sae_comparison_figure(saes), figure_index++);
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

std::string status_summary(const std::vector<StepReport>& steps) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& step : steps) {
    auto it = std::find_if(counts.begin(), counts.end(),
                           [&step](const auto& c) { return c.first == step.status; });
    if (it == counts.end()) {
      counts.emplace_back(step.status, 1);
    } else {
      ++it->second;
    }
  }
  std::string text;
  for (const auto& [status, n] : counts) {
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", n, escape(status));
  }
  return text;
}

std::string render_page(const Store& store, const std::string& experiment_name,
                        const std::vector<StepReport>& steps, const std::string& plotly,
                        const fs::path& report_dir) {
  std::string page;
  Out out(page);
  const std::vector<SaeSummary> saes = summarize_saes(store, steps);
  size_t figures = saes.size() >= 2 ? 1 : 0;
  for (const auto& step : steps) figures += step.figures.size();
  fmt::format_to(out,
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>othrun report: {}</title>\n<style>{}</style>\n",
                 escape(experiment_name), assets::kStyle);
  fmt::format_to(out, "<script>{}</script>\n", assets::kErrorHookScript);
  if (!plotly.empty()) fmt::format_to(out, "<script>{}</script>\n", plotly);
  fmt::format_to(out, "</head>\n<body data-figures=\"{}\">\n<h1>{}</h1>\n", figures,
                 escape(experiment_name));
  fmt::format_to(out, "<p class=\"meta\">Store <code>{}</code>: {} step{} ({}), {} figure{}.</p>\n",
                 escape(store.index_path().string()), steps.size(), steps.size() == 1 ? "" : "s",
                 status_summary(steps), figures, figures == 1 ? "" : "s");
  write_plotly_note(out);
  fmt::format_to(out, "<div id=\"render-errors\" class=\"errors\" hidden></div>\n");
  const fs::path product_dir = store.product_dir();
  write_dashboards(out, steps, product_dir, report_dir);
  write_contents(out, steps, saes, product_dir, report_dir);
  size_t figure_index = 0;
  write_sae_comparison(out, saes, figure_index);
  for (const auto& step : steps) write_step(out, step, figure_index, product_dir, report_dir);
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
  const std::string page = render_page(store, name, collect_steps(store), load_plotly(options),
                                       fs::absolute(out_html).parent_path());
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
