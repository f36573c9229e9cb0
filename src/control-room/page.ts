/**
 * The control room's page: one HTML document with uPlot inlined (as the HTML report does, so it
 * needs nothing from the network), fed by server-sent events from the same server. Three live
 * charts — latency percentiles, throughput, error rate — with the thresholds drawn as dashed
 * lines (stop conditions in red) and fault windows shaded; the phase and time left; the active
 * faults and what they act on; the stop conditions with their last check; a log; and the HALT
 * button.
 *
 * The token is read from the page's own address and sent back on every request; the page puts
 * `data-points`, `data-phase`, `data-halted` and `data-outcome` on `<body>` so tests (and
 * scripts) can wait for what they need.
 */
import { uplot } from '../reporting/html.js';

export function controlRoomPage(title: string): string {
  const assets = uplot();
  const safeTitle = title.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:">
<title>faultline control room: ${safeTitle}</title>
<style>${assets.css}
${STYLE}</style></head>
<body data-points="0" data-phase="starting">
<header><div><h1 id="title">${safeTitle}</h1><div class="muted" id="file"></div></div>
<button id="halt" type="button" title="remove every fault now and end the run as aborted">HALT</button></header>
<section class="status"><span>phase <strong id="phase">starting</strong></span><span>time left <strong id="left">–</strong></span><span>elapsed <strong id="elapsed">0 s</strong></span><span id="outcome"></span></section>
<div id="charts"></div>
<h2>Faults</h2>
<table><thead><tr><th>fault</th><th>target</th><th>what it does</th><th>acts on</th><th>state</th><th>window</th><th>touched</th></tr></thead><tbody id="faults"><tr><td colspan="7" class="muted">none yet</td></tr></tbody></table>
<h2>Stop conditions</h2>
<table><thead><tr><th>condition</th><th>watches</th><th>what stops the run</th><th>state</th><th>last value</th><th>checks</th></tr></thead><tbody id="stops"><tr><td colspan="6" class="muted">none: only the time limit and HALT stop this run</td></tr></tbody></table>
<h2>Log</h2><ol id="log" class="mono"></ol>
<script>${assets.js}</script>
<script>${SCRIPT}</script>
</body></html>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px 24px; color: #1f2328; }
header { display: flex; justify-content: space-between; align-items: center; gap: 16px; }
h1 { font-size: 20px; margin: 0; } h2 { font-size: 16px; margin: 20px 0 6px; border-bottom: 1px solid #d0d7de; }
#halt { background: #cf222e; color: #fff; font-size: 22px; font-weight: 700; border: 0; border-radius: 8px; padding: 14px 36px; cursor: pointer; letter-spacing: 2px; }
#halt:disabled { background: #8c959f; cursor: default; }
.status { display: flex; gap: 28px; background: #f6f8fa; padding: 8px 12px; margin: 12px 0; }
.muted { color: #57606a; } .mono { font-family: ui-monospace, Menlo, monospace; font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; }
th { background: #f6f8fa; } .active { color: #cf222e; font-weight: 600; }
#outcome strong { text-transform: uppercase; }
`;

/** Plain ES2017, no framework. */
const SCRIPT = String.raw`
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  var q = '?token=' + encodeURIComponent(token);
  var state = null, charts = [], lastElapsedAt = 0;
  var root = document.getElementById('charts');
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function secs(ms) { var s = Math.max(0, Math.round(ms / 1000)); return s >= 60 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : s + ' s'; }
  function now() { return state ? (state.outcome ? state.elapsedMs : state.elapsedMs + (Date.now() - lastElapsedAt)) : 0; }
  function overlay(kind) {
    return function (u) {
      var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height, left = u.bbox.left, width = u.bbox.width;
      ctx.save();
      state.faults.forEach(function (f) {
        var to = f.to == null ? now() / 1000 : f.to;
        var x0 = u.valToPos(f.from, 'x', true), x1 = u.valToPos(to, 'x', true);
        ctx.fillStyle = 'rgba(207, 34, 46, 0.12)';
        ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
      });
      state.thresholds.filter(function (t) { return t.chart === kind; }).forEach(function (t) {
        var y = Math.round(u.valToPos(t.value, 'y', true));
        ctx.strokeStyle = t.kind === 'stop' ? '#cf222e' : '#9a6700';
        ctx.lineWidth = 1.5 * (window.devicePixelRatio || 1);
        ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
      });
      ctx.restore();
    };
  }
  function makeChart(kind, title, unit, series) {
    var el = document.createElement('div'); el.className = 'chart'; el.id = 'chart-' + kind; root.appendChild(el);
    var limits = state.thresholds.filter(function (t) { return t.chart === kind; }).map(function (t) { return t.value; });
    var opts = {
      title: title, width: Math.max(320, root.clientWidth - 8), height: 200,
      scales: {
        x: { time: false, range: function (u, min, max) { return [0, Math.max(10, max || 0, now() / 1000)]; } },
        y: { range: function (u, min, max) { return [0, Math.max(max || 0, Math.max.apply(null, [1].concat(limits)) * 1.1)]; } }
      },
      axes: [{ label: 'seconds since the run started' }, { label: unit, size: 60 }],
      series: [{ label: 's' }].concat(series.map(function (s) { return { label: s.label, stroke: s.colour, width: 2, points: { show: false } }; })),
      hooks: { drawClear: [overlay(kind)] }
    };
    var chart = new uPlot(opts, columns(series), el);
    chart._series = series;
    return chart;
  }
  function columns(series) {
    return [state.points.map(function (p) { return p.t; })].concat(series.map(function (s) { return state.points.map(function (p) { return p[s.key]; }); }));
  }
  function redraw() {
    charts.forEach(function (c) { c.setData(columns(c._series)); });
    document.body.setAttribute('data-points', String(state.points.length));
  }
  function renderFaults() {
    var rows = state.faults.map(function (f) {
      var active = f.to == null;
      return '<tr><td class="' + (active ? 'active' : '') + '">' + esc(f.name) + '</td><td>' + esc(f.target) + '</td><td>' + esc(f.describe) + '</td><td class="mono">' + esc(f.where) +
        '</td><td>' + esc(active ? 'ACTIVE' : f.state) + '</td><td>' + f.from.toFixed(1) + ' s – ' + (active ? 'now' : f.to.toFixed(1) + ' s') +
        '</td><td>' + esc(f.touchedText || (active ? 'counted at removal' : '–')) + '</td></tr>';
    });
    $('faults').innerHTML = rows.length ? rows.join('') : '<tr><td colspan="7" class="muted">none yet</td></tr>';
    document.body.setAttribute('data-active-faults', String(state.faults.filter(function (f) { return f.to == null; }).length));
  }
  function renderStops() {
    var rows = (state.stopConditions || []).map(function (c) {
      var bad = c.state === 'breaching' || c.state === 'breached' || c.state === 'unknown';
      return '<tr><td>' + esc(c.name) + '</td><td>' + esc(c.kind) + '</td><td>' + esc(c.describe) + '</td><td class="' + (bad ? 'active' : '') + '">' + esc(c.state) +
        '</td><td class="mono">' + esc(c.value == null ? '–' : c.value) + '</td><td>' + (c.kind === 'load' ? '–' : esc(c.checks + (c.errors ? ' (' + c.errors + ' not evaluated)' : ''))) + '</td></tr>';
    });
    if (rows.length) $('stops').innerHTML = rows.join('');
    document.body.setAttribute('data-stop-conditions', String(rows.length));
    var breached = (state.stopConditions || []).filter(function (c) { return c.state === 'breached'; });
    if (breached.length) document.body.setAttribute('data-stop-breached', breached[0].name);
  }
  function addLog(e) { var li = document.createElement('li'); li.textContent = '[' + e.t.toFixed(1) + ' s] ' + e.text; $('log').appendChild(li); }
  function renderStatus() {
    $('phase').textContent = state.phase; document.body.setAttribute('data-phase', state.phase);
    $('elapsed').textContent = secs(now());
    $('left').textContent = state.outcome ? '–' : secs(state.maxDurationMs - now()) + ' at most';
    if (state.outcome) {
      $('outcome').innerHTML = 'outcome <strong>' + esc(state.outcome.outcome) + '</strong> (exit ' + esc(state.outcome.exitCode) + ') ' + esc(state.outcome.reason || '');
      document.body.setAttribute('data-outcome', state.outcome.outcome);
      $('halt').disabled = true;
    }
    if (state.halted) { document.body.setAttribute('data-halted', 'true'); $('halt').disabled = true; $('halt').textContent = 'HALTED'; }
  }
  function start(snapshot) {
    state = snapshot; lastElapsedAt = Date.now();
    $('file').textContent = state.file;
    root.innerHTML = ''; $('log').innerHTML = '';
    charts = [
      makeChart('latency', 'Latency', 'ms', [{ key: 'p50', label: 'p50', colour: '#0969da' }, { key: 'p90', label: 'p90', colour: '#9a6700' }, { key: 'p99', label: 'p99', colour: '#cf222e' }]),
      makeChart('throughput', 'Throughput', 'req/s', [{ key: 'rps', label: 'completed', colour: '#1a7f37' }]),
      makeChart('errors', 'Error rate', '%', [{ key: 'errorRate', label: 'errors', colour: '#bc4c00' }])
    ];
    state.log.forEach(addLog);
    redraw(); renderFaults(); renderStops(); renderStatus();
    document.body.setAttribute('data-charts', String(charts.length));
  }
  var source = new EventSource('/events' + q);
  source.addEventListener('snapshot', function (m) { start(JSON.parse(m.data)); });
  source.addEventListener('update', function (m) {
    var u = JSON.parse(m.data);
    if (!state) return;
    if (u.type === 'point') { state.points.push(u.point); state.elapsedMs = u.point.t * 1000; lastElapsedAt = Date.now(); redraw(); }
    else if (u.type === 'phase') { state.phase = u.phase; state.elapsedMs = u.elapsedMs; lastElapsedAt = Date.now(); }
    else if (u.type === 'faults') { state.faults = u.faults; renderFaults(); redraw(); }
    else if (u.type === 'log') { state.log.push(u.entry); addLog(u.entry); }
    else if (u.type === 'halted') { state.halted = true; }
    else if (u.type === 'stop-condition') {
      state.stopConditions = (state.stopConditions || []).map(function (c) { return c.name === u.condition.name && c.kind === u.condition.kind ? u.condition : c; });
      renderStops();
    }
    else if (u.type === 'outcome') { state.outcome = u.outcome; source.close(); }
    renderStatus();
  });
  setInterval(function () { if (state && !state.outcome) { renderStatus(); charts.forEach(function (c) { c.redraw(false); }); } }, 1000);
  $('halt').addEventListener('click', function () {
    $('halt').disabled = true; $('halt').textContent = 'HALTING…';
    fetch('/halt' + q, { method: 'POST' }).then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); document.body.setAttribute('data-halt-sent', 'true'); })
      .catch(function (e) { $('halt').disabled = false; $('halt').textContent = 'HALT'; alert('HALT failed: ' + e.message + ' — run faultline halt in a terminal'); });
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.setSize({ width: Math.max(320, root.clientWidth - 8), height: 200 }); }); });
})();
`;
