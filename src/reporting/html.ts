/**
 * The HTML report: one self-contained file, worth sending to the team, that opens offline.
 *
 * ```
 *   ReportModel ─▶ tables (escaped text) ─┐
 *               └▶ chart data (JSON) ─────┼─▶ <html> with uPlot's JS + CSS inlined from node_modules
 *                                         └─   and a content security policy that forbids any fetch
 * ```
 *
 * Charts are drawn by uPlot (MIT; small and fast), read from its npm package when the report is
 * written and inlined, so the page needs no network and no server. Fault windows are shaded,
 * abort, rollback and recovery instants drawn as vertical lines and the thresholds and stop
 * conditions as dashed horizontal ones (as the control room draws them) by a uPlot `drawClear`
 * hook. The legends are static (uPlot's live legend shows `p50: --` until the cursor is on the
 * chart, which a report read on paper never is): each series with its colour, each line with
 * what it is. Every piece of journal text is HTML-escaped; the chart data is embedded as JSON in a
 * `<script type="application/json">` with `<` escaped, so no journal string can end the element.
 */
import { describeTouched, touchedNothing } from '../journal/touched.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HypothesisRow, PhaseLoad, ReportModel } from './report-model.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON safe inside a `<script>` element: `<`, U+2028 and U+2029 escaped. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let uplotAssets: { js: string; css: string } | undefined;

/** uPlot's browser build and stylesheet, from the installed package (read once). */
export function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const require = createRequire(import.meta.url);
    uplotAssets = {
      // A closing tag inside the inlined code would end its element early; `<\/` means the same in JS.
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8').replace(
        /<\/(script)/gi,
        '<\\/$1',
      ),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8').replace(
        /<\/(style)/gi,
        '',
      ),
    };
  }
  return uplotAssets;
}

const OUTCOME_COLOURS: Record<string, string> = {
  held: '#1a7f37',
  deviated: '#cf222e',
  aborted: '#bc4c00',
  inconclusive: '#8250df',
  interrupted: '#57606a',
  residue: '#a40e26',
  unfinished: '#57606a',
};

const fmtMs = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const fmtPct = (v: number): string => `${(v * 100).toFixed(2)} %`;

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const td = (text: unknown, cls = ''): string =>
  `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;
const mark = (met: boolean): string =>
  met ? '<td class="ok">✔ held</td>' : '<td class="bad">✗ deviated</td>';

function hypothesesSection(rows: HypothesisRow[]): string {
  if (rows.length === 0)
    return '<p class="muted">No hypothesis: the experiment states no probe and no load threshold.</p>';
  return table(
    ['phase', 'hypothesis', 'expected', 'measured', 'checks', 'result'],
    rows.map((r) => [
      td(r.phase),
      td(r.name),
      td(r.expected, 'mono'),
      `<td class="mono">${escapeHtml(r.measured)}${r.reason && !r.met ? `<div class="reason">${escapeHtml(r.reason)}</div>` : ''}</td>`,
      td(r.failed > 0 ? `${r.failed} of ${r.checks} failed` : `${r.checks}`),
      mark(r.met),
    ]),
  );
}

function faultsSection(model: ReportModel): string {
  if (model.faults.length === 0) return '<p class="muted">No fault was applied.</p>';
  return table(
    ['fault', 'target', 'what', 'in place', 'touched', 'removed', 'state'],
    model.faults.map((f) => [
      td(f.name),
      td(f.target),
      td(`${f.describe}${f.share < 1 ? ` (${Math.round(f.share * 100)} % of traffic)` : ''}`),
      td(
        f.activeSeconds === undefined
          ? '–'
          : `${f.activeSeconds.toFixed(2)} s${f.appliedAt ? ` from ${f.appliedAt.slice(11, 23)}` : ''}`,
      ),
      td(describeTouched(f.touched, bytes), touchedNothing(f.touched) ? 'bad' : ''),
      td(
        f.gone === true
          ? 'verified gone'
          : f.gone === false
            ? 'STILL THERE'
            : f.removedAt
              ? 'removed (not verified)'
              : '–',
        f.gone === false ? 'bad' : '',
      ),
      td(`${f.state}${f.error ? `: ${f.error}` : ''}`, f.state === 'removed' ? '' : 'bad'),
    ]),
  );
}

function phaseRows(phases: PhaseLoad[]): string {
  return table(
    ['phase', 'p50', 'p99', 'throughput', 'error rate', 'completed'],
    phases.map((p) => [
      td(p.phase),
      td(fmtMs(p.p50), 'num'),
      td(fmtMs(p.p99), 'num'),
      td(`${p.rps.toFixed(1)} req/s`, 'num'),
      td(fmtPct(p.errorRate), 'num'),
      td(p.completed, 'num'),
    ]),
  );
}

function recoverySection(model: ReportModel): string {
  const parts: string[] = [];
  const r = model.recovery;
  if (r) {
    const t = r.recoveredAfterMs;
    parts.push(
      `<p>Time to recovery: <strong>${t === null ? 'not recovered within the recovery window (residue)' : t === undefined ? 'not measured' : escapeHtml(`${t} ms`)}</strong>${
        r.baseline && r.after
          ? escapeHtml(
              ` — baseline p50 ${fmtMs(r.baseline.p50)}, p99 ${fmtMs(r.baseline.p99)}; after the method p50 ${fmtMs(r.after.p50)}, p99 ${fmtMs(r.after.p99)}`,
            )
          : ''
      }</p>`,
    );
  }
  if (model.stop) {
    parts.push(
      `<p class="bad">Stop condition <code>${escapeHtml(model.stop.condition)}</code> breached at ${escapeHtml(model.stop.value)} (measurable at ${escapeHtml(model.stop.measurableAt)})${
        model.stop.reactionMs !== undefined
          ? escapeHtml(`; every fault removed ${model.stop.reactionMs} ms later`)
          : ''
      }.</p>`,
    );
  }
  if (model.rollbacks.length > 0) {
    parts.push(
      table(
        ['rollback', 'status', 'at'],
        model.rollbacks.map((x) => [
          td(x.name),
          td(`${x.status}${x.reason ? `: ${x.reason}` : ''}`, x.status === 'failed' ? 'bad' : ''),
          td(x.at),
        ]),
      ),
    );
  }
  return parts.length
    ? parts.join('\n')
    : '<p class="muted">No load was measured, so there is no recovery time; no stop condition fired; no rollback action.</p>';
}

function environmentSection(model: ReportModel): string {
  const rows: [string, unknown][] = [
    ['experiment file', `${model.file} (${model.format} format)`],
    ['service', model.service],
    ['environment', model.environment ?? '(not stated)'],
    ['tags', model.tags.join(', ') || '–'],
    ['run id', model.runId],
    ['started', model.start],
    ['ended', model.end ?? '(not ended)'],
    [
      'duration',
      model.durationSeconds === undefined
        ? '–'
        : `${model.durationSeconds.toFixed(1)} s (limit ${model.run.maxDurationSeconds} s)`,
    ],
    [
      'strategies',
      Object.entries(model.run.strategies)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join('; '),
    ],
    ['faultline', model.run.faultlineVersion],
    ['Node.js', model.run.node],
    ...(model.run.host ? [['host', model.run.host] as [string, string]] : []),
    ['platform', model.run.platform],
    ['runner pid', model.run.pid],
  ];
  if (model.load) {
    rows.push(['load', `${model.load.rate} req/s on ${model.load.url}`]);
    rows.push([
      'load measurement',
      model.load.trustworthy === false
        ? `NOT trustworthy: ${model.load.problems.join('; ')}`
        : 'trustworthy',
    ]);
  }
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}</tbody></table>`;
}

/** The in-page script: draws three uPlot charts from the embedded data. Plain ES2017. */
const CHART_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var load = data.load;
  var root = document.getElementById('charts');
  if (!load || load.series.t.length === 0) return;
  var xMax = Math.max.apply(null, [0].concat(load.series.t.map(function (t) { return t + 0.5; }), load.windows.map(function (w) { return w.to; }), load.markers.map(function (m) { return m.at + 0.1; })));
  var COLOURS = { abort: '#cf222e', rollback: '#8250df', recovered: '#0a7b83', interrupted: '#57606a' };
  var LIMIT_COLOURS = { threshold: '#9a6700', stop: '#a40e26' };
  var thresholds = load.thresholds || [];
  function limitsOf(kind) { return thresholds.filter(function (t) { return t.chart === kind; }); }
  // The fault windows are shaded beneath the grid and the series (drawClear); the markers and
  // the limits are drawn above them (draw): uPlot's grid lines (2 px, 7 % black) drawn over a
  // marker that falls on a tick had faded it to another colour.
  function overlayOf(kind) { return function (u) { overlay(u, kind); }; }
  function underlay(u) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    load.windows.forEach(function (w) {
      var x0 = u.valToPos(w.from, 'x', true), x1 = u.valToPos(w.to, 'x', true);
      ctx.fillStyle = 'rgba(207, 34, 46, 0.12)';
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    });
    ctx.restore();
  }
  function overlay(u, kind) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height, left = u.bbox.left, width = u.bbox.width;
    ctx.save();
    load.markers.forEach(function (m) {
      var x = Math.round(u.valToPos(m.at, 'x', true));
      ctx.strokeStyle = COLOURS[m.kind] || '#000';
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      ctx.setLineDash(m.kind === 'recovered' ? [6, 4] : []);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
    });
    limitsOf(kind).forEach(function (t) {
      var y = Math.round(u.valToPos(t.value, 'y', true));
      ctx.strokeStyle = LIMIT_COLOURS[t.kind];
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      ctx.setLineDash([8, 5]);
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
    });
    ctx.restore();
  }
  // What each dashed line is, under the chart (a canvas line alone does not say).
  function limitLegend(el, kind) {
    var limits = limitsOf(kind);
    if (limits.length === 0) return;
    var legend = document.createElement('div');
    legend.className = 'limits';
    limits.forEach(function (t) {
      var item = document.createElement('span');
      item.className = 'limit limit-' + t.kind;
      item.style.borderColor = LIMIT_COLOURS[t.kind];
      item.textContent = t.label + (t.kind === 'stop' ? ' (stop condition)' : ' (threshold)');
      legend.appendChild(item);
    });
    el.appendChild(legend);
  }
  function chart(id, kind, title, unit, series) {
    var el = document.createElement('div');
    el.className = 'chart';
    el.id = id;
    root.appendChild(el);
    var limits = limitsOf(kind).map(function (t) { return t.value; });
    var opts = {
      title: title,
      width: Math.max(320, root.clientWidth - 8),
      height: 220,
      // From 0 to the last second, fault end or marker, whichever is latest (rollbacks come after the load).
      scales: {
        x: { time: false, range: function (u, min, max) { return [0, Math.max(max, xMax)]; } },
        // Up to the highest line, so a threshold above every sample is still drawn.
        y: { range: function (u, min, max) { return [0, Math.max(max || 0, Math.max.apply(null, [1].concat(limits)) * 1.1)]; } }
      },
      legend: { live: false },
      axes: [
        { label: 'seconds since the load started' },
        { label: unit, size: 70 }
      ],
      series: [{ label: 's' }].concat(series.map(function (s) {
        return { label: s.label, stroke: s.colour, width: 2, points: { show: false } };
      })),
      hooks: { drawClear: [underlay], draw: [overlayOf(kind)] }
    };
    var cols = [load.series.t].concat(series.map(function (s) { return load.series[s.key]; }));
    var plot = new uPlot(opts, cols, el);
    limitLegend(el, kind);
    return plot;
  }
  var charts = [
    chart('chart-latency', 'latency', 'Latency', 'ms', [
      { key: 'p50', label: 'p50 per second', colour: '#0969da' },
      { key: 'p99', label: 'p99 per second', colour: '#cf222e' }
    ]),
    chart('chart-throughput', 'throughput', 'Throughput', 'req/s', [{ key: 'rps', label: 'completed requests per second', colour: '#1a7f37' }]),
    chart('chart-errors', 'errors', 'Error rate', '%', [{ key: 'errorRate', label: 'errors per second, % of completed', colour: '#bc4c00' }])
  ];
  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.setSize({ width: Math.max(320, root.clientWidth - 8), height: 220 }); });
  });
  document.body.setAttribute('data-charts', String(charts.length));
})();
`;

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.verdict { border-left: 6px solid var(--c); background: #f6f8fa; padding: 12px 16px; margin: 16px 0; }
.verdict .outcome { font-size: 20px; font-weight: 600; color: var(--c); text-transform: uppercase; }
.score { float: right; text-align: right; } .score strong { font-size: 26px; display: block; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; } th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } table.kv th { width: 180px; }
.mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; } .bad { color: #cf222e; } .muted { color: #57606a; } .reason { color: #57606a; font-size: 12px; }
.legend span { display: inline-block; margin-right: 16px; } .sw { display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; }
.chart { margin: 8px 0 16px; }
.limits { font-size: 12px; color: #57606a; margin: 2px 0 0 70px; } .limit { margin-right: 16px; white-space: nowrap; } .limit::before { content: ''; display: inline-block; width: 22px; margin-right: 6px; vertical-align: middle; border-top: 2px dashed; border-color: inherit; }
`;

/** Renders the model as a complete HTML document (uPlot inlined). */
export function renderHtml(model: ReportModel): string {
  const assets = uplot();
  const colour = OUTCOME_COLOURS[model.verdict.outcome] ?? '#57606a';
  const score = model.score;
  const chartData = model.load
    ? {
        load: {
          series: model.load.series,
          windows: model.load.windows,
          markers: model.load.markers,
          thresholds: model.load.thresholds,
        },
      }
    : { load: null };
  const markerList = model.load?.markers.length
    ? `<ul class="muted">${model.load.markers.map((m) => `<li>${escapeHtml(`${m.at.toFixed(2)} s — ${m.label}`)}</li>`).join('')}</ul>`
    : '';
  const windowsList = model.load?.windows.length
    ? `<ul class="muted">${model.load.windows.map((w) => `<li>${escapeHtml(`${w.from.toFixed(2)}–${w.to.toFixed(2)} s — ${w.label}`)}</li>`).join('')}</ul>`
    : '';
  const charts = model.load
    ? `<p class="legend"><span><i class="sw" style="background:rgba(207,34,46,.25)"></i>fault in place</span><span><i class="sw" style="background:#cf222e"></i>abort (stop condition)</span><span><i class="sw" style="background:#8250df"></i>rollback</span><span><i class="sw" style="background:#0a7b83"></i>recovered</span></p>
<div id="charts"></div>${windowsList}${markerList}
<h3>Load by phase</h3>${phaseRows(model.load.phases)}${model.load.shift ? `<p>During the method, ${escapeHtml(model.load.shift)}.</p>` : ''}`
    : '<p class="muted">This experiment kept no load on the service, so there is no time series (add <code>steadyState.load</code>).</p><div id="charts"></div>';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(`${model.title} — ${model.verdict.outcome} — faultline report`)}</title>
<style>${assets.css}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(model.title)}</h1>
<div class="muted">${escapeHtml(`${model.service} · ${model.start}${model.description ? ` · ${model.description}` : ''}`)}</div>
</header>
<section class="verdict" style="--c:${colour}" id="verdict">
<div class="score">resilience score<strong>${score.percent === null ? 'not scored' : escapeHtml(`${score.percent} %`)}</strong><span class="muted">${escapeHtml(score.note)}</span></div>
<div class="outcome">${escapeHtml(model.verdict.outcome)}${model.verdict.exitCode === undefined ? '' : escapeHtml(` (exit ${model.verdict.exitCode})`)}</div>
<p><strong>${escapeHtml(model.verdict.reason)}</strong></p>
<ul>${model.verdict.why.map((w) => `<li>${escapeHtml(w)}</li>`).join('\n')}</ul>
</section>
<h2>Load over time</h2>
${charts}
<h2>Hypotheses</h2>
${hypothesesSection(model.hypotheses)}
<h2>Faults</h2>
${faultsSection(model)}
<h2>Recovery, stop conditions, rollbacks</h2>
${recoverySection(model)}
<h2>Environment</h2>
${environmentSection(model)}
<footer class="muted"><p>Written by faultline ${escapeHtml(model.run.faultlineVersion)}. Charts: uPlot (MIT), inlined.</p></footer>
<script type="application/json" id="report-data">${scriptJson(chartData)}</script>
<script>${assets.js}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
