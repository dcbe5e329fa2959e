// othrun dashboards (docs/dashboards.md): the index of all units and one unit's view. The data
// are JavaScript files calling othrunDashboard.meta/index/unit, loaded with <script> tags because
// browsers refuse fetch() on file:// pages. Plots are plain SVG. When rendering ends, <body> gets
// data-render-state="done" (or "errors"), data-plots (SVG plots drawn) and data-render-ms.
"use strict";
(function () {
  const t0 = performance.now();
  const state = { meta: null, index: null, files: {}, wanted: -1, errors: [] };
  const STATES = ["empty", "theirs", "mine"];
  const GROUP_COLOURS = ["#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"];
  const TOP_COLOUR = "#e6550d";
  const SVGNS = "http://www.w3.org/2000/svg";

  function squareLabel(s) { return "ABCDEFGH"[s >> 3] + String(s & 7); }
  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
    const d = digits || 3;
    if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(d - 1);
    return Number(v.toPrecision(d)).toString();
  }
  function pct(v) { return v === null ? "n/a" : fmt(100 * v, 3) + "%"; }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function plot(width, height, title) {
    const s = svgEl("svg", { class: "plot", width: width, height: height,
                             viewBox: "0 0 " + width + " " + height, role: "img" });
    if (title) s.appendChild(svgEl("title", {}, title));
    return s;
  }
  function finishPlot(s) { s.setAttribute("data-drawn", String(s.childElementCount)); return s; }
  function fail(message) {
    state.errors.push(message);
    const box = document.getElementById("errors");
    if (box) { box.hidden = false; box.textContent = state.errors.join("\n"); }
    document.body.setAttribute("data-render-state", "errors");
  }
  window.addEventListener("error", function (e) { fail("script error: " + e.message); });
  function done() {
    if (state.errors.length) { document.body.setAttribute("data-render-state", "errors"); return; }
    document.body.setAttribute("data-plots", String(document.querySelectorAll("svg.plot").length));
    document.body.setAttribute("data-render-ms", String(Math.round(performance.now() - t0)));
    document.body.setAttribute("data-render-state", "done");
  }

  // ---- colours --------------------------------------------------------------------------------
  function mix(a, b, t) {
    const c = [0, 1, 2].map(function (i) { return Math.round(a[i] + (b[i] - a[i]) * t); });
    return "rgb(" + c.join(",") + ")";
  }
  // Diverging (red below 0, white at 0, blue above), as plotly express RdBu; |v| / vmax in [0, 1].
  function diverging(v, vmax) {
    if (v === null || Number.isNaN(v)) return "#eee";
    const t = Math.max(-1, Math.min(1, vmax > 0 ? v / vmax : 0));
    return t < 0 ? mix([255, 255, 255], [178, 24, 43], -t) : mix([255, 255, 255], [33, 102, 172], t);
  }
  function sequential(v, vmax) {
    if (v === null || Number.isNaN(v)) return "#eee";
    const t = Math.max(0, Math.min(1, vmax > 0 ? v / vmax : 0));
    return mix([247, 251, 255], [8, 48, 107], t);
  }

  // ---- boards ---------------------------------------------------------------------------------
  const CELL = 17, MARGIN = 14;
  function boardFrame(title, extra) {
    const size = MARGIN + 8 * CELL + 1;
    const s = plot(size, size + (extra || 0), title);
    for (let i = 0; i < 8; ++i) {
      s.appendChild(svgEl("text", { x: MARGIN + i * CELL + CELL / 2, y: 10, "font-size": 9,
                                    "text-anchor": "middle", fill: "#666" }, String(i)));
      s.appendChild(svgEl("text", { x: 6, y: MARGIN + i * CELL + CELL / 2 + 3, "font-size": 9,
                                    "text-anchor": "middle", fill: "#666" }, "ABCDEFGH"[i]));
    }
    return s;
  }
  function cellRect(s, sq, fill, tip) {
    const r = svgEl("rect", { x: MARGIN + (sq & 7) * CELL, y: MARGIN + (sq >> 3) * CELL,
                              width: CELL, height: CELL, fill: fill, stroke: "#bbb",
                              "stroke-width": 0.5 });
    if (tip) r.appendChild(svgEl("title", {}, tip));
    s.appendChild(r);
  }
  // The true board: discs, the move just played ringed in red.
  function drawBoard(board, move, title) {
    const s = boardFrame(title);
    for (let sq = 0; sq < 64; ++sq) cellRect(s, sq, "#3a8f4b", squareLabel(sq));
    for (let sq = 0; sq < 64; ++sq) {
      const c = board[sq];
      if (c === ".") continue;
      s.appendChild(svgEl("circle", { cx: MARGIN + (sq & 7) * CELL + CELL / 2,
                                      cy: MARGIN + (sq >> 3) * CELL + CELL / 2, r: CELL / 2 - 2,
                                      fill: c === "b" ? "#111" : "#fafafa", stroke: "#333",
                                      "stroke-width": 0.5 }));
    }
    if (move >= 0) {
      s.appendChild(svgEl("rect", { x: MARGIN + (move & 7) * CELL + 1, y: MARGIN + (move >> 3) * CELL + 1,
                                    width: CELL - 2, height: CELL - 2, fill: "none",
                                    stroke: "#e31a1c", "stroke-width": 2 }));
    }
    return finishPlot(s);
  }
  // A value per square as colours; `kind` "diverging" (symmetric around 0) or "sequential".
  function drawHeat(values, kind, title, digits) {
    const s = boardFrame(title, 14);
    let vmax = 0;
    for (const v of values) if (v !== null && !Number.isNaN(v)) vmax = Math.max(vmax, Math.abs(v));
    for (let sq = 0; sq < 64; ++sq) {
      const v = values[sq];
      const fill = kind === "diverging" ? diverging(v, vmax) : sequential(v, vmax);
      cellRect(s, sq, fill, squareLabel(sq) + ": " + fmt(v, digits || 3));
    }
    s.setAttribute("data-vmax", String(vmax));
    const y = MARGIN + 8 * CELL + 11;
    const lowColour = kind === "diverging" ? diverging(-vmax, vmax) : sequential(0, vmax);
    s.appendChild(svgEl("rect", { x: MARGIN, y: y - 8, width: 8, height: 8, fill: lowColour }));
    s.appendChild(svgEl("rect", { x: MARGIN + 8 * CELL - 8, y: y - 8, width: 8, height: 8,
                                  fill: kind === "diverging" ? diverging(vmax, vmax) : sequential(vmax, vmax) }));
    axisText(s, MARGIN + 10, y, kind === "diverging" ? fmt(-vmax) : "0", "start");
    axisText(s, MARGIN + 8 * CELL - 10, y, fmt(vmax), "end");
    return finishPlot(s);
  }

  // ---- charts ---------------------------------------------------------------------------------
  function drawSparkline(values, first, position, title) {
    const w = 2 * MARGIN + 8 * CELL * 2, h = 46;
    const s = plot(w, h, title);
    let lo = 0, hi = 0;
    for (const v of values) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (hi === lo) hi = lo + 1;
    const x = function (i) { return 4 + (w - 8) * i / Math.max(1, values.length - 1); };
    const y = function (v) { return 4 + (h - 8) * (1 - (v - lo) / (hi - lo)); };
    s.appendChild(svgEl("line", { x1: 4, x2: w - 4, y1: y(0), y2: y(0), stroke: "#ccc" }));
    let d = "";
    values.forEach(function (v, i) {
      if (v === null) return;
      d += (d === "" || values[i - 1] === null ? "M" : "L") + x(i).toFixed(1) + "," + y(v).toFixed(1);
    });
    s.appendChild(svgEl("path", { d: d, fill: "none", stroke: "#2171b5", "stroke-width": 1.2 }));
    const j = position - first;
    if (j >= 0 && j < values.length && values[j] !== null) {
      s.appendChild(svgEl("circle", { cx: x(j), cy: y(values[j]), r: 3, fill: TOP_COLOUR }));
    }
    return finishPlot(s);
  }
  function axisText(s, x, y, text, anchor) {
    s.appendChild(svgEl("text", { x: x, y: y, "font-size": 10, fill: "#444",
                                  "text-anchor": anchor || "middle" }, text));
  }
  // Histogram of the non-zero values, each bar coloured by the quantile group of its centre.
  function drawHistogram(u, groups) {
    const w = 520, h = 200, left = 44, bottom = 26, top = 8;
    const s = plot(w, h, "histogram of non-zero values");
    const counts = u.counts, edges = u.edges;
    const n = counts.length;
    const cmax = Math.max.apply(null, counts.concat([1]));
    const pw = w - left - 8, ph = h - top - bottom;
    for (let b = 0; b < n; ++b) {
      const centre = (edges[b] + edges[b + 1]) / 2;
      let g = -1;
      if (u.bounds.length) {
        g = 0;
        for (let k = 1; k < groups; ++k) if (centre >= u.bounds[k]) g = k;
        if (centre <= 0) g = -1;
      }
      const bh = ph * counts[b] / cmax;
      const r = svgEl("rect", { x: left + pw * b / n, y: top + ph - bh, width: Math.max(1, pw / n - 1),
                                height: bh, fill: g < 0 ? "#bbb" : GROUP_COLOURS[g % GROUP_COLOURS.length] });
      r.appendChild(svgEl("title", {}, fmt(edges[b]) + " .. " + fmt(edges[b + 1]) + ": " + counts[b]));
      s.appendChild(r);
    }
    s.appendChild(svgEl("line", { x1: left, x2: left + pw, y1: top + ph, y2: top + ph, stroke: "#888" }));
    s.appendChild(svgEl("line", { x1: left, x2: left, y1: top, y2: top + ph, stroke: "#888" }));
    axisText(s, left, h - 10, fmt(edges[0]), "start");
    axisText(s, left + pw, h - 10, fmt(edges[n]), "end");
    axisText(s, left + pw / 2, h - 2, "activation");
    axisText(s, left - 4, top + 8, String(cmax), "end");
    axisText(s, left - 4, top + ph, "0", "end");
    return finishPlot(s);
  }
  // Index overview: units by log10 density.
  function drawDensityOverview(density) {
    const w = 520, h = 150, left = 44, bottom = 28, top = 8, bins = 40;
    const s = plot(w, h, "units by log10 density");
    const lo = -6, hi = 0;
    const counts = new Array(bins).fill(0);
    let dead = 0;
    for (const d of density) {
      if (d === null) continue;
      if (d <= 0) { ++dead; continue; }
      const b = Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(d) - lo) / (hi - lo) * bins)));
      ++counts[b];
    }
    const cmax = Math.max.apply(null, counts.concat([1]));
    const pw = w - left - 8, ph = h - top - bottom;
    counts.forEach(function (c, b) {
      const bh = ph * c / cmax;
      const r = svgEl("rect", { x: left + pw * b / bins, y: top + ph - bh, width: pw / bins - 1,
                                height: bh, fill: "#4292c6" });
      r.appendChild(svgEl("title", {}, c + " units"));
      s.appendChild(r);
    });
    s.appendChild(svgEl("line", { x1: left, x2: left + pw, y1: top + ph, y2: top + ph, stroke: "#888" }));
    for (let e = lo; e <= hi; ++e) axisText(s, left + pw * (e - lo) / (hi - lo), h - 14, "1e" + e);
    axisText(s, left + pw / 2, h - 2, "density (fraction of positions where the unit is > 0)" +
             (dead ? "; " + dead + " never > 0" : ""));
    axisText(s, left - 4, top + 8, String(cmax), "end");
    return finishPlot(s);
  }

  // ---- loading --------------------------------------------------------------------------------
  function loadScript(src, what) {
    const tag = document.createElement("script");
    tag.src = src;
    tag.onerror = function () { fail("could not load " + src + " (" + what + ")"); };
    document.body.appendChild(tag);
  }

  // ---- the index ------------------------------------------------------------------------------
  const COLUMNS = [
    { key: "unit", label: "#", num: true },
    { key: "name", label: "unit", num: false },
    { key: "density", label: "density", num: true },
    { key: "max", label: "max", num: true },
    { key: "mean", label: "mean", num: true },
    { key: "top", label: "top board state", num: false },
    { key: "firing_corr", label: "firing corr", num: true },
    { key: "f1", label: "F1", num: true },
    { key: "auroc", label: "AUROC", num: true },
  ];
  const view = { sort: "unit", desc: false, page: 0, perPage: 100, rows: [] };

  function indexRows() {
    const d = state.index, rows = [];
    for (let i = 0; i < d.name.length; ++i) {
      if (d.name[i] === null) continue;
      rows.push({ unit: i, name: d.name[i], density: d.density[i], max: d.max[i], mean: d.mean[i],
                  square: d.square[i], state: d.state[i],
                  top: d.square[i] < 0 ? "" : squareLabel(d.square[i]) + " " + STATES[d.state[i]],
                  firing_corr: d.firing_corr[i], f1: d.f1[i], auroc: d.auroc[i] });
    }
    return rows;
  }
  function numberInput(id, label, placeholder) {
    const l = el("label", {}, label);
    l.appendChild(el("input", { id: id, type: "number", step: "any", placeholder: placeholder || "" }));
    return l;
  }
  function buildFilters() {
    const f = document.getElementById("filters");
    const search = el("label", {}, "search");
    search.appendChild(el("input", { id: "f-search", type: "search",
                                     placeholder: "unit number, name, square or state" }));
    f.appendChild(search);
    f.appendChild(numberInput("f-dmin", "density min (%)"));
    f.appendChild(numberInput("f-dmax", "density max (%)"));
    f.appendChild(numberInput("f-corr", "firing corr min"));
    const sq = el("label", {}, "top square");
    const sel = el("select", { id: "f-square" });
    sel.appendChild(el("option", { value: "" }, "any"));
    for (let s = 0; s < 64; ++s) sel.appendChild(el("option", { value: String(s) }, squareLabel(s)));
    sq.appendChild(sel);
    f.appendChild(sq);
    const st = el("label", {}, "top state");
    const ssel = el("select", { id: "f-state" });
    ssel.appendChild(el("option", { value: "" }, "any"));
    STATES.forEach(function (name, k) { ssel.appendChild(el("option", { value: String(k) }, name)); });
    st.appendChild(ssel);
    f.appendChild(st);
    f.appendChild(numberInput("f-f1", "F1 min"));
    f.appendChild(numberInput("f-auroc", "AUROC min"));
    f.addEventListener("input", function () { view.page = 0; renderTable(); });
  }
  function value(id) {
    const v = document.getElementById(id).value;
    return v === "" ? null : Number(v);
  }
  function filtered() {
    const q = document.getElementById("f-search").value.trim().toLowerCase();
    const dmin = value("f-dmin"), dmax = value("f-dmax"), corr = value("f-corr");
    const f1 = value("f-f1"), auroc = value("f-auroc");
    const square = document.getElementById("f-square").value;
    const st = document.getElementById("f-state").value;
    return view.rows.filter(function (r) {
      if (q && !(String(r.unit) === q || r.name.toLowerCase().includes(q) ||
                 r.top.toLowerCase().includes(q))) return false;
      if (dmin !== null && !(r.density * 100 >= dmin)) return false;
      if (dmax !== null && !(r.density * 100 <= dmax)) return false;
      if (corr !== null && !(r.firing_corr >= corr)) return false;
      if (f1 !== null && !(r.f1 >= f1)) return false;
      if (auroc !== null && !(r.auroc >= auroc)) return false;
      if (square !== "" && String(r.square) !== square) return false;
      if (st !== "" && String(r.state) !== st) return false;
      return true;
    });
  }
  function compare(key, desc) {
    return function (a, b) {
      let x = a[key], y = b[key];
      const xn = x === null || Number.isNaN(x), yn = y === null || Number.isNaN(y);
      if (xn || yn) return xn === yn ? a.unit - b.unit : (xn ? 1 : -1);  // n/a last
      if (typeof x === "string") { x = x.toLowerCase(); y = y.toLowerCase(); }
      if (x === y) return a.unit - b.unit;  // ties: by unit number, either direction
      const c = x < y ? -1 : 1;
      return desc ? -c : c;
    };
  }
  function renderPager(id, pages, total) {
    const p = document.getElementById(id);
    p.textContent = "";
    const prev = el("button", { type: "button" }, "previous");
    prev.disabled = view.page === 0;
    prev.onclick = function () { view.page--; renderTable(); };
    const next = el("button", { type: "button" }, "next");
    next.disabled = view.page >= pages - 1;
    next.onclick = function () { view.page++; renderTable(); };
    p.appendChild(prev);
    p.appendChild(el("span", {}, "page " + (view.page + 1) + " of " + Math.max(1, pages)));
    p.appendChild(next);
  }
  function renderTable() {
    const rows = filtered().sort(compare(view.sort, view.desc));
    const pages = Math.ceil(rows.length / view.perPage);
    view.page = Math.max(0, Math.min(view.page, pages - 1));
    document.getElementById("count").textContent =
      rows.length + " of " + view.rows.length + " units match";
    const head = document.querySelector("#units thead");
    head.textContent = "";
    const tr = el("tr");
    COLUMNS.forEach(function (c) {
      const th = el("th", { "data-key": c.key, class: c.num ? "" : "name" }, c.label);
      if (view.sort === c.key) th.classList.add(view.desc ? "sorted-desc" : "sorted-asc");
      th.onclick = function () {
        view.desc = view.sort === c.key ? !view.desc : c.num && c.key !== "unit";
        view.sort = c.key;
        renderTable();
      };
      tr.appendChild(th);
    });
    head.appendChild(tr);
    const body = document.querySelector("#units tbody");
    body.textContent = "";
    const frag = document.createDocumentFragment();
    rows.slice(view.page * view.perPage, (view.page + 1) * view.perPage).forEach(function (r) {
      const row = el("tr", { "data-unit": String(r.unit) });
      row.appendChild(el("td", {}, String(r.unit)));
      const name = el("td", { class: "name" });
      name.appendChild(el("a", { href: "unit.html#" + r.unit }, r.name));
      row.appendChild(name);
      row.appendChild(el("td", {}, pct(r.density)));
      row.appendChild(el("td", {}, fmt(r.max)));
      row.appendChild(el("td", {}, fmt(r.mean)));
      row.appendChild(el("td", { class: "name" }, r.top));
      row.appendChild(el("td", {}, fmt(r.firing_corr)));
      row.appendChild(el("td", {}, fmt(r.f1)));
      row.appendChild(el("td", {}, fmt(r.auroc)));
      frag.appendChild(row);
    });
    body.appendChild(frag);
    renderPager("pager-top", pages, rows.length);
    renderPager("pager-bottom", pages, rows.length);
  }
  // index.html#sort=f1&desc=1&square=28&state=2&q=...&dmin=&dmax=&corr=&f1=&auroc=: a view to
  // link to (or to test); the controls start from it.
  function applyHash() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const fields = { q: "f-search", dmin: "f-dmin", dmax: "f-dmax", corr: "f-corr",
                     square: "f-square", state: "f-state", f1: "f-f1", auroc: "f-auroc" };
    for (const k in fields) if (params.has(k)) document.getElementById(fields[k]).value = params.get(k);
    if (params.has("sort") && COLUMNS.some(function (c) { return c.key === params.get("sort"); })) {
      view.sort = params.get("sort");
    }
    view.desc = params.get("desc") === "1";
  }
  function renderIndex() {
    if (!state.meta || !state.index) {
      fail("the dashboard's data did not load (data/meta.js, data/index.js next to this page)");
      return;
    }
    const m = state.meta;
    document.title = m.title;
    document.getElementById("title").textContent = m.title;
    if (m.report) {
      const nav = document.getElementById("nav");
      nav.appendChild(el("a", { href: m.report }, "experiment report"));
    }
    document.getElementById("description").textContent =
      m.units + " units over " + m.games + " games (" + m.rows + " positions, " +
      "positions " + m.positions_first + ".." + (m.positions_first + m.positions_count - 1) +
      "). Board states: " + m.state_source + ".";
    view.rows = indexRows();
    const ov = document.getElementById("overview");
    ov.appendChild(drawDensityOverview(state.index.density));
    buildFilters();
    document.getElementById("filters").after(el("p", { class: "muted" },
      "density: fraction of positions where the unit is > 0. Top board state: the (square, " +
      "state) whose indicator correlates best with 'unit > 0' (firing corr, Pearson); F1 of " +
      "'unit > 0' predicting that state; AUROC of the unit's value as a score for it. " +
      "States: empty, mine, theirs (mine = the side to move). Click a header to sort."));
    applyHash();
    renderTable();
    done();
  }

  // ---- one unit -------------------------------------------------------------------------------
  function section(parent, title) {
    parent.appendChild(el("h2", {}, title));
    const div = el("div", { class: "row" });
    parent.appendChild(div);
    return div;
  }
  function panel(parent, svg, caption) {
    const p = el("div", { class: "panel" });
    p.appendChild(svg);
    if (caption) p.appendChild(el("div", { class: "caption" }, caption));
    parent.appendChild(p);
    return p;
  }
  function note(parent, text) { parent.appendChild(el("p", { class: "note" }, text)); }
  function moveText(e) {
    if (e.move < 0) return "start";
    const next = e.to_move > 0 ? "black" : e.to_move < 0 ? "white" : "nobody";
    return "after move " + e.position + ": " + squareLabel(e.move) + " by " +
           (e.mover > 0 ? "black" : "white") + "; " + next + " to move";
  }
  function exampleCard(e, m) {
    const card = el("div", { class: "example" });
    card.appendChild(el("div", { class: "head" },
      "game " + e.game + ", " + moveText(e) + " - value " + fmt(e.value, 4)));
    if (e.repeats > 0) {
      card.appendChild(el("div", { class: "caption" }, "the same moves so far (the same input) in " +
                                   e.repeats + " other game" + (e.repeats > 1 ? "s" : "")));
    }
    const boards = el("div", { class: "boards" });
    boards.appendChild(drawBoard(e.board, e.move, "board after move " + e.position));
    if (e.probs) {  // stored in units of 1e-4
      const probs = e.probs.map(function (p) { return p === null ? null : p / 1e4; });
      boards.appendChild(drawHeat(probs, "sequential", "next-move probabilities", 3));
    }
    card.appendChild(boards);
    card.appendChild(drawSparkline(e.spark, m.positions_first, e.position,
                                   "the unit over game " + e.game));
    return card;
  }
  function renderUnit(u) {
    const m = state.meta;
    const main = document.getElementById("unit");
    main.textContent = "";
    document.title = u.name + " - " + m.label;
    document.getElementById("title").textContent = u.name;
    document.getElementById("description").textContent = m.description;
    const nav = document.getElementById("nav");
    nav.textContent = "";
    nav.appendChild(el("a", { href: "index.html" }, "all units"));
    if (m.report) nav.appendChild(el("a", { href: m.report }, "experiment report"));
    if (u.index > 0) nav.appendChild(el("a", { href: "#" + (u.index - 1) }, "previous"));
    if (u.index + 1 < m.units) nav.appendChild(el("a", { href: "#" + (u.index + 1) }, "next"));

    const stats = el("div", { class: "stats" });
    [["density", pct(u.density) + " (" + u.active + " of " + u.kept + " positions > 0)"],
     ["mean", fmt(u.mean, 4)], ["min", fmt(u.min, 4)], ["max", fmt(u.max, 4)]].forEach(function (p) {
      const s = el("span", {}, p[0] + ": ");
      s.appendChild(el("b", {}, p[1]));
      stats.appendChild(s);
    });
    main.appendChild(stats);

    const act = section(main, "Activations");
    if (u.counts.length) {
      const zeros = u.kept - u.counts.reduce(function (a, b) { return a + b; }, 0);
      const hist = panel(act, drawHistogram(u, m.groups),
        "Values at the " + u.kept + " positions" +
        (zeros ? " (the " + zeros + " at exactly 0 not shown)" : "") + ". Colours: quantile " +
        "groups of the values > 0, equal counts; grey: values < 0.");
      const legend = el("div", { class: "legend" });
      for (let g = 0; g < u.bounds.length - 1; ++g) {
        const item = el("span");
        item.appendChild(el("span", { class: "swatch", style: "background:" + GROUP_COLOURS[g % GROUP_COLOURS.length] }));
        item.appendChild(document.createTextNode("group " + (g + 1) + ": " + fmt(u.bounds[g]) +
                                                 " .. " + fmt(u.bounds[g + 1])));
        legend.appendChild(item);
      }
      hist.appendChild(legend);
    } else {
      note(act, "The unit is 0 at every position: nothing to show.");
    }
    const st = el("div", { class: "panel" });
    st.appendChild(el("h3", {}, "Board states it fires with"));
    const table = el("table", { class: "states" });
    const hr = el("tr");
    ["square", "state", "firing corr", "act corr", "F1", "AUROC"].forEach(function (h) {
      hr.appendChild(el("th", {}, h));
    });
    table.appendChild(hr);
    u.states.forEach(function (s) {
      const r = el("tr");
      [squareLabel(s.square), s.state, fmt(s.firing_corr), fmt(s.act_corr), fmt(s.f1),
       fmt(s.auroc)].forEach(function (v) { r.appendChild(el("td", {}, v)); });
      table.appendChild(r);
    });
    st.appendChild(table);
    st.appendChild(el("div", { class: "caption" }, "Source: " + m.state_source + "."));
    act.appendChild(st);

    const eff = section(main, "What it writes");
    if (u.effect) {
      panel(eff, drawHeat(u.effect, "diverging", "direct effect on the move logits", 3),
        "Direct effect on each move's logit: " + m.direction_source + " through the final " +
        "LayerNorm's weights and W_U, centred over the 60 moves (blue raises, red lowers; " +
        "per unit of the residual's scale).");
    }
    if (u.cos_blank) {
      panel(eff, drawHeat(u.cos_blank, "diverging", "cosine with blank_dir", 3),
            "Cosine with each square's probe blank_dir.");
      panel(eff, drawHeat(u.cos_mine, "diverging", "cosine with mine_dir", 3),
            "Cosine with each square's probe mine_dir (blue: mine, red: theirs).");
    }
    if (m.direction_note) note(eff, m.direction_note);
    const abl = section(main, "Ablation effects");
    if (u.ablation) {
      const a = u.ablation;
      panel(abl, drawHeat(a.logprob_fired, "diverging", "log-prob change where it fired", 3),
        "Mean change of each move's log-prob (edited - clean) at the " + a.rows_fired +
        " edited positions where the feature fired; " + m.ablation_source + ".");
      panel(abl, drawHeat(a.logprob_all, "diverging", "log-prob change, every position", 3),
        "The same over all " + a.rows_all + " edited positions.");
      if (a.flips_fired) {
        panel(abl, drawHeat(a.flips_fired, "sequential", "probe flips where it fired", 3),
          "Fraction of the positions where it fired whose probe reading of each square changed.");
      }
    } else {
      note(abl, m.ablation_note);
    }

    const groups = {};
    u.examples.forEach(function (e) { (groups[e.group] = groups[e.group] || []).push(e); });
    const order = Object.keys(groups).map(Number).sort(function (a, b) {
      return a === -1 ? -1 : b === -1 ? 1 : b - a;
    });
    main.appendChild(el("h2", {}, "Examples"));
    if (!u.examples.length) note(main, "No position where the unit is non-zero.");
    main.appendChild(el("p", { class: "muted" },
      "Each example: the true board after the move (the move just played ringed in red)" +
      (m.probs_source ? ", the model's next-move probabilities beside it (darker: likelier; " +
                        m.probs_source + ")" : "") +
      ", and the unit at every position of that game (the dot: this position). " +
      "'Mine' is the side to move."));
    if (m.probs_note) note(main, m.probs_note);
    order.forEach(function (g) {
      main.appendChild(el("h3", {}, g === -1 ? "Top activations" :
        "Quantile group " + (g + 1) + " of " + (u.bounds.length - 1) + " (" + fmt(u.bounds[g]) +
        " .. " + fmt(u.bounds[g + 1]) + ")"));
      const row = el("div", { class: "examples" });
      groups[g].forEach(function (e) { row.appendChild(exampleCard(e, m)); });
      main.appendChild(row);
    });
    done();
  }
  function showWanted() {
    const list = state.files[Math.floor(state.wanted / state.meta.units_per_file)] || [];
    const u = list.find(function (x) { return x.index === state.wanted; });
    if (!u) { fail("unit " + state.wanted + " is not in its data file"); return; }
    try { renderUnit(u); } catch (e) { fail("rendering failed: " + e.message); }
  }
  function startUnit() {
    if (!state.meta) { fail("the dashboard's data/meta.js did not load"); return; }
    const go = function () {
      const text = decodeURIComponent(location.hash.replace(/^#/, ""));
      const i = Number(text === "" ? "0" : text);
      if (!Number.isInteger(i) || i < 0 || i >= state.meta.units) {
        fail("no unit '" + text + "': this dashboard has units 0.." + (state.meta.units - 1));
        return;
      }
      state.wanted = i;
      const file = Math.floor(i / state.meta.units_per_file);
      if (state.files[file]) { showWanted(); return; }
      document.body.setAttribute("data-render-state", "loading");
      loadScript("data/u/" + file + ".js", "units of unit " + i);
    };
    window.addEventListener("hashchange", go);
    go();
  }

  window.othrunDashboard = {
    meta: function (d) { state.meta = d; },
    index: function (d) { state.index = d; },
    units: function (list) {
      if (!list.length) return;
      state.files[Math.floor(list[0].index / state.meta.units_per_file)] = list;
      showWanted();
    },
    missing: function (src) { fail("could not load " + src); },
    renderIndex: function () {
      try { renderIndex(); } catch (e) { fail("rendering failed: " + e.message); }
    },
    startUnit: startUnit,
  };
})();
