#include "report/page_assets.hpp"

namespace othrun::report::assets {

const char* const kStyle = R"CSS(
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em;
       color: #222; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #ccd; padding-bottom: 0.2em; margin-top: 2em; }
h2 .plugin { font-weight: normal; font-size: 0.7em; color: #555; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccd; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #eef; }
td.num { text-align: right; }
pre { background: #f6f6f8; padding: 0.6em; overflow-x: auto; }
figure { margin: 1.5em 0; padding: 0.5em; border: 1px solid #e4e4ea; border-radius: 4px; }
figure:target { border-color: #e41a1c; }
figcaption { margin-top: 0.4em; }
.plot { min-height: 100px; }
.plot-missing { color: #a00; font-style: italic; padding: 1em; background: #fff4f4; }
.note { background: #fff8e0; border: 1px solid #e0c060; padding: 0.6em 1em; }
.errors { background: #fff0f0; border: 1px solid #d04040; padding: 0.6em 1em; }
.stale { background: #ffe8cc; border: 1px solid #d08000; padding: 0.2em 0.5em; font-weight: bold; }
.related { color: #555; font-size: 0.9em; }
.status { display: inline-block; font-size: 0.75rem; font-weight: bold; padding: 0.1em 0.5em;
          border-radius: 3px; background: #e8e8ee; color: #333; vertical-align: middle; }
.status-ran { background: #d8f0d8; color: #1a5e1a; }
.status-up-to-date { background: #e4eef8; color: #1d4f7a; }
.status-failed, .status-interrupted, .status-missing { background: #f8d0d0; color: #8a0000; }
.status-not-run { background: #eee; color: #555; }
.status-stale, .status-stale- { background: #ffe0b0; color: #7a4a00; }
.step-error pre { background: #fff; white-space: pre-wrap; }
.facts { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
table.metrics td:first-child { font-family: monospace; }
td.na { color: #888; font-style: italic; }
table.sae-comparison { font-size: 0.9em; }
h3.figure-title { margin: 0.2em 0 0.4em; font-size: 1.05em; }
#dashboards li { margin: 0.2em 0; }
)CSS";

const char* const kErrorHookScript = R"JS(
window.othrunErrors = [];
window.addEventListener('error', function (event) {
  window.othrunErrors.push('error: ' + event.message);
  if (window.othrunShowErrors) window.othrunShowErrors();
});
(function () {
  var original = console.error;
  console.error = function () {
    window.othrunErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    if (window.othrunShowErrors) window.othrunShowErrors();
    return original.apply(console, arguments);
  };
})();
)JS";

const char* const kRenderScript = R"JS(
(function () {
  var body = document.body;
  var shown = 0;
  window.othrunShowErrors = function () {
    var box = document.getElementById('render-errors');
    for (; shown < window.othrunErrors.length; ++shown) {
      var line = document.createElement('p');
      line.textContent = window.othrunErrors[shown];
      box.appendChild(line);
      box.hidden = false;
    }
    body.dataset.renderErrors = String(window.othrunErrors.length);
  };
  function fail(message) {
    window.othrunErrors.push(message);
    window.othrunShowErrors();
  }
  window.othrunShowErrors();
  var plots = Array.prototype.slice.call(document.querySelectorAll('div.plot'));
  if (typeof Plotly === 'undefined') {
    document.getElementById('plotly-missing').hidden = false;
    plots.forEach(function (div) {
      div.className += ' plot-missing';
      div.textContent = 'This figure needs plotly.js (see the note at the top).';
    });
    body.dataset.renderState = 'no-plotly';
    return;
  }
  var pending = plots.map(function (div) {
    var figure;
    try {
      figure = JSON.parse(document.getElementById('data-' + div.dataset.figure).textContent);
    } catch (error) {
      fail('figure ' + div.dataset.anchor + ': bad JSON: ' + error);
      return Promise.resolve();
    }
    // The title is the HTML heading above the plot: dropped here, the top margin shrinks so
    // that it just holds plotly's toolbar (shown on hover), clear of everything drawn.
    var layout = figure.layout || {};
    if (layout.title) {
      delete layout.title;
      layout.margin = layout.margin || {};
      layout.margin.t = Math.max(35, (layout.margin.t === undefined ? 80 : layout.margin.t) - 25);
    }
    var config = { displaylogo: false, responsive: true, displayModeBar: 'hover' };
    return Plotly.newPlot(div, figure.data, layout, config).then(
      function () { div.dataset.rendered = '1'; },
      function (error) { fail('figure ' + div.dataset.anchor + ': ' + error); });
  });
  Promise.all(pending).then(function () {
    window.othrunShowErrors();
    body.dataset.renderState = window.othrunErrors.length ? 'errors' : 'done';
  });
})();
)JS";

}  // namespace othrun::report::assets
