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
    var config = { displaylogo: false, responsive: true };
    return Plotly.newPlot(div, figure.data, figure.layout, config).then(
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
