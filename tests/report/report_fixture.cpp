#include "report_fixture.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <othrun/report.hpp>

#include <othrun/store.hpp>
#include "inference/notebook_figure.hpp"
#include "max_activation/notebook_figure.hpp"
#include "neuron_spectrum/notebook_figure.hpp"
#include "probe_projection/notebook_figure.hpp"
#include "sae_correlation/notebook_figures.hpp"

namespace othrun::testing {
namespace {

namespace r = othrun::report;

Provenance provenance(const std::string& plugin, std::vector<std::string> inputs) {
  return Provenance{plugin, "1.0.0", {plugin}, "games: games\nseed: 1\n", "hash", inputs, "demo"};
}

void commit(Store& store, Product&& product, double seconds) {
  product.root().attrs().set("othrun.seconds", seconds);
  store.commit(std::move(product));
}

r::Board ramp(double scale) {
  r::Board board{};
  for (int s = 0; s < 64; ++s) board[s] = scale * (s % 8 - 3.5) * (s / 8 - 3.5) / 12.25;
  return board;
}

void neuron_figures(Group& root) {
  r::Board log_probs{};
  for (int s = 0; s < 64; ++s) log_probs[s] = -0.2 * s;
  r::write_figure(root, r::log_prob_board("log_probs", log_probs, "Example Log Probs",
                                          "log_softmax at the last position of a 30-move prefix"));
  r::write_figure(root, r::max_activation_board("max_act", ramp(1.0), 0, 774, false));
  r::Board abs_board = ramp(1.0);
  for (auto& v : abs_board) v = std::abs(v);
  r::write_figure(root, r::max_activation_board("max_act_abs", abs_board, 0, 774, true));
  std::vector<double> off, on;
  for (int i = 0; i < 2000; ++i) off.push_back(std::sin(i * 0.37) * 0.3 - 0.1);
  for (int i = 0; i < 100; ++i) on.push_back(1.0 + 0.5 * std::cos(i * 0.7));
  r::Histogram h = r::bin_values("L0N774 spectrum plot testing current_move==E0", "pre_act",
                                 {{"False", off}, {"True", on}}, 100);
  h.norm = r::HistNorm::Percent;
  r::write_figure(root, r::spectrum_histogram("spectrum", h, "pre-activation of L0N774"));
  r::Board accuracy{};
  for (int s = 0; s < 64; ++s) accuracy[s] = 0.5 + 0.5 * s / 63.0;
  r::write_figure(root, r::probe_accuracy_board("probe_accuracy", accuracy, "Probe accuracy"));
}

void sae_figures(Group& root) {
  r::Histogram corr;
  corr.title = "Correlation between feature acts and is_empty";
  corr.x_title = "correlation";
  for (int i = 0; i <= 20; ++i) corr.edges.push_back(-0.5 + i * 0.05);
  std::vector<double> counts;
  for (int i = 0; i < 20; ++i) counts.push_back(std::exp(-0.1 * (i - 10) * (i - 10)) * 1000);
  corr.groups.push_back({"pairs", counts});
  auto hist = r::correlation_histogram("correlation", corr);
  hist.related = {"top_pairs"};
  r::write_figure(root, hist);
  std::vector<r::PairCounts> pairs = {{485, 43, "", 0.336, 120, 2000, 300, 9380, ""},
                                      {12, 20, "", 0.21, 50, 3000, 500, 8250, ""}};
  r::write_figure(root,
                  r::top_pairs_table("top_pairs", pairs, "pair_counts", "top-10 by correlation"));
  auto bars = r::pair_counts_grid("pair_counts", pairs, "2x2 counts");
  bars.related = {"top_pairs", "neuron/max_act"};
  r::write_figure(root, bars);
  r::Position position;
  position.cells[27] = -1, position.cells[28] = 1, position.cells[35] = 1, position.cells[36] = -1;
  position.cells[19] = 1, position.cells[27] = 1;
  position.last_move = 19;
  position.valid_moves = {18, 20, 34};
  r::write_figure(root, r::othello_board("board", position, "Game 0 after ply 1"));
}

}  // namespace

void make_report_store(const std::filesystem::path& index) {
  Store store(index);
  commit(store, store.begin("games", provenance("games", {})), 0.5);
  Product neuron = store.begin("neuron", provenance("neuron_analysis", {"games:abc"}));
  neuron_figures(neuron.root());
  commit(store, std::move(neuron), 1.25);
  Product sae = store.begin("sae", provenance("sae_correlation", {"games:abc"}));
  sae_figures(sae.root());
  commit(store, std::move(sae), 2.5);
}

CommandResult run_chromium(const std::string& chromium, const std::filesystem::path& profile,
                           const std::string& action, const std::filesystem::path& page) {
  const std::string command =
      shell_quote(chromium) +
      " --headless --no-sandbox --disable-gpu --disable-background-networking"
      " --disable-component-update --disable-sync --no-first-run --disable-quic"
      " --disable-dev-shm-usage --enable-logging=stderr --v=0 --virtual-time-budget=20000"
      " --user-data-dir=" +
      shell_quote(profile.string()) + " " + action + " " + shell_quote("file://" + page.string());
  return run_command("timeout 120 " + command);
}

CommandResult run_chromium_screenshot(const std::string& chromium,
                                      const std::filesystem::path& profile,
                                      const std::filesystem::path& page,
                                      const std::filesystem::path& png, int height) {
  std::filesystem::remove(png);
  return run_chromium(chromium, profile,
                      "--window-size=1200," + std::to_string(height) +
                          " --hide-scrollbars --screenshot=" + shell_quote(png.string()),
                      page);
}

namespace {

const char* const kLayoutProbe = R"JS(
(function () {
  function overlap(a, b) {
    // One pixel of slack: touching boxes are fine.
    return a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
           b.top < a.bottom - 1;
  }
  function visible(box) { return box.width > 0 && box.height > 0; }
  function check() {
    if (!document.body.dataset.renderState) { setTimeout(check, 50); return; }
    var problems = [];
    document.querySelectorAll('figure').forEach(function (figure) {
      var plot = figure.querySelector('div.plot');
      if (!plot || !plot.querySelector('svg.main-svg')) return;
      var texts = Array.prototype.slice.call(plot.querySelectorAll(
          '.gtitle, .annotation-text, .legendtext, .cbtitle text, .g-xtitle text, .g-ytitle text, ' +
          '.xtick text, .ytick text'));
      var bar = plot.querySelector('.modebar');
      if (!bar) {
        problems.push(figure.id + ': no toolbar');
      } else {
        var toolbar = bar.getBoundingClientRect();
        texts.forEach(function (text) {
          var box = text.getBoundingClientRect();
          if (visible(box) && overlap(toolbar, box))
            problems.push(figure.id + ': toolbar over "' + text.textContent + '"');
        });
      }
      var labels = texts.filter(function (t) { return !t.closest('.xtick, .ytick'); });
      for (var i = 0; i < labels.length; ++i) {
        for (var j = i + 1; j < labels.length; ++j) {
          var a = labels[i].getBoundingClientRect(), b = labels[j].getBoundingClientRect();
          if (visible(a) && visible(b) && overlap(a, b))
            problems.push(figure.id + ': "' + labels[i].textContent + '" over "' +
                          labels[j].textContent + '"');
        }
      }
      var title = figure.querySelector('h3.figure-title');
      var area = plot.getBoundingClientRect();
      if (title && title.getBoundingClientRect().bottom > area.top + 1)
        problems.push(figure.id + ': title over the plot');
      var svg = plot.querySelector('svg.main-svg').getBoundingClientRect();
      if (svg.right > figure.getBoundingClientRect().right + 1)
        problems.push(figure.id + ': plot wider than its figure');
    });
    var list = document.createElement('pre');
    list.id = 'layout-problems';
    list.textContent = problems.join('\n');
    document.body.appendChild(list);
    document.body.dataset.layoutProblems = String(problems.length);
  }
  check();
})();
)JS";

}  // namespace

void copy_with_layout_probe(const std::filesystem::path& page, const std::filesystem::path& out) {
  std::ifstream in(page, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string html = text.str();
  const auto end = html.rfind("</body>");
  if (end == std::string::npos) throw std::runtime_error(page.string() + ": no </body>");
  html.insert(end, std::string("<script>") + kLayoutProbe + "</script>\n");
  std::ofstream(out, std::ios::binary) << html;
}

int layout_problems(const std::string& dom, std::string* list) {
  const std::string key = "data-layout-problems=\"";
  const auto at = dom.find(key);
  if (list) {
    const auto start = dom.find("<pre id=\"layout-problems\">");
    *list = start == std::string::npos ? "" : dom.substr(start, dom.find("</pre>", start) - start);
  }
  return at == std::string::npos ? -1 : std::stoi(dom.substr(at + key.size()));
}

std::vector<std::string> figure_elements(const std::string& dom) {
  std::vector<std::string> figures;
  for (size_t at = dom.find("<figure "); at != std::string::npos;
       at = dom.find("<figure ", at + 1)) {
    figures.push_back(dom.substr(at, dom.find("</figure>", at) - at));
  }
  return figures;
}

}  // namespace othrun::testing
