/**
 * The game day's reports, Markdown and self-contained HTML, from its {@link GameDayRecord}:
 * the verdict, the plan (objective, hypothesis, roles, blast radius, kill switch), the timeline
 * of stages, faults and observations, the measured figures against the success criteria, what
 * broke and what held, and the action items with their owners. Every text that came from a
 * person or a journal is escaped (Markdown table cells and HTML alike).
 */
import { escapeHtml } from '../reporting/html.js';
import type { GameDayRecord } from './gameday.js';

const cell = (v: unknown): string =>
  String(v ?? '')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
const pct = (v: number | undefined): string =>
  v === undefined ? '–' : `${(v * 100).toFixed(2)} %`;
const ms = (v: number | undefined): string => (v === undefined ? '–' : `${v} ms`);
const verdict = (met: boolean | null): string =>
  met === null ? 'not measured' : met ? 'met' : 'MISSED';

interface TimelineRow {
  at: string;
  stage: string;
  kind: string;
  text: string;
}

/** Stages, faults and observations in time order. */
export function timeline(record: GameDayRecord): TimelineRow[] {
  const rows: TimelineRow[] = record.observations.map((o) => ({
    at: o.at,
    stage: o.stage,
    kind: o.kind,
    text:
      o.kind === 'action'
        ? `${o.text} (owner: ${o.owner ?? 'unassigned'})`
        : o.kind === 'criterion'
          ? `criterion ${String(o.criterion)} ${o.met ? 'met' : 'missed'}: ${o.text}`
          : o.text,
  }));
  for (const s of record.stages)
    rows.push({
      at: s.ended,
      stage: `stage ${s.stage} (${s.name})`,
      kind: 'event',
      text: `stage ended: ${s.outcome}${s.reason ? ` — ${s.reason}` : ''} (decision: ${s.decision})`,
    });
  return rows.sort((a, b) => a.at.localeCompare(b.at));
}

export function gameDayMarkdown(record: GameDayRecord): string {
  const out: string[] = [];
  out.push(`# Game day: ${record.title}`, '');
  out.push(`**${record.outcome.toUpperCase()}** (exit ${record.exitCode}): ${record.reason}`, '');
  out.push(
    `${record.started} → ${record.ended}${record.interactive ? '' : ' (non-interactive: stages advanced on their timers)'}`,
    '',
  );
  out.push('## Plan', '');
  out.push('| | |', '| --- | --- |');
  out.push(
    `| objective | ${cell(record.objective)} |`,
    `| hypothesis | ${cell(record.hypothesis)} |`,
  );
  for (const [role, who] of Object.entries(record.roles))
    out.push(`| ${cell(role)} | ${cell(who)} |`);
  out.push(
    `| blast radius | ${cell(record.blastRadius)} |`,
    `| kill switch | ${cell(record.killSwitch)} |`,
  );
  if (record.precheck)
    out.push(
      `| pre-check | ${record.precheck.met ? 'steady state met' : `NOT met: ${cell(record.precheck.reason)}`} |`,
    );
  out.push('', '## Stages', '');
  out.push(
    '| stage | share | experiment | decision | outcome | p50 | p99 | req/s | errors | faults |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of record.stages) {
    const faults = s.faults
      .map(
        (f) =>
          `${f.name} on ${f.target} (${f.state}${f.touched ? `, touched ${JSON.stringify(f.touched)}` : ''})`,
      )
      .join('; ');
    out.push(
      `| ${s.stage} ${cell(s.name)} | ${s.percentage} % | ${cell(s.experiment)} | ${s.decision} | ${s.outcome} | ${ms(s.load?.p50)} | ${ms(s.load?.p99)} | ${s.load ? s.load.rps.toFixed(1) : '–'} | ${pct(s.load?.error_rate)} | ${cell(faults)} |`,
    );
  }
  out.push('', '## Success criteria', '');
  out.push('| # | criterion | target | measured | verdict |', '| --- | --- | --- | --- | --- |');
  for (const c of record.criteria)
    out.push(
      `| ${c.index} | ${cell(c.name)} | ${cell(c.criterion)} | ${cell(c.measured)} | ${verdict(c.met)} |`,
    );
  out.push('', '## What broke', '');
  out.push(...(record.broke.length ? record.broke.map((b) => `- ${cell(b)}`) : ['- nothing']));
  out.push('', '## What held', '');
  out.push(
    ...(record.held.length ? record.held.map((b) => `- ${cell(b)}`) : ['- nothing confirmed']),
  );
  out.push('', '## Timeline', '');
  out.push('| time | stage | kind | entry |', '| --- | --- | --- | --- |');
  for (const r of timeline(record))
    out.push(`| ${r.at.slice(11, 23)} | ${cell(r.stage)} | ${r.kind} | ${cell(r.text)} |`);
  out.push('', '## Action items', '');
  out.push('| action | owner | from |', '| --- | --- | --- |');
  for (const a of record.actionItems)
    out.push(`| ${cell(a.title)} | ${cell(a.owner)} | ${a.source} |`);
  if (record.actionItems.length === 0)
    out.push('| (none recorded: add them with `action: … @owner`) | | |');
  out.push('');
  return out.join('\n');
}

const COLOURS: Record<string, string> = {
  completed: '#1a7f37',
  aborted: '#bc4c00',
  interrupted: '#57606a',
  'pre-check failed': '#8250df',
  residue: '#a40e26',
};

export function gameDayHtml(record: GameDayRecord): string {
  const e = escapeHtml;
  const table = (head: string[], rows: unknown[][]): string =>
    `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
  const colour =
    record.outcome === 'completed' && record.exitCode !== 0
      ? '#cf222e'
      : (COLOURS[record.outcome] ?? '#57606a');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Game day: ${e(record.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px; color: #1f2328; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #d0d7de; }
.verdict { border-left: 6px solid ${colour}; background: #f6f8fa; padding: 12px 16px; } .verdict strong { color: ${colour}; text-transform: uppercase; font-size: 18px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; } th { background: #f6f8fa; }
.bad { color: #cf222e; } .ok { color: #1a7f37; }
</style></head><body>
<h1>Game day: ${e(record.title)}</h1>
<div class="verdict" id="verdict" data-outcome="${e(record.outcome)}"><strong>${e(record.outcome)}</strong> (exit ${record.exitCode}) — ${e(record.reason)}<br><span>${e(record.started)} → ${e(record.ended)}</span></div>
<h2>Plan</h2>
${table(['', ''], [['objective', record.objective], ['hypothesis', record.hypothesis], ...Object.entries(record.roles), ['blast radius', record.blastRadius], ['kill switch', record.killSwitch], ['pre-check', record.precheck ? (record.precheck.met ? 'steady state met' : `NOT met: ${record.precheck.reason ?? ''}`) : '–']])}
<h2>Stages</h2>
${table(
  [
    'stage',
    'share',
    'experiment',
    'decision',
    'outcome',
    'p50',
    'p99',
    'req/s',
    'errors',
    'faults',
  ],
  record.stages.map((s) => [
    `${s.stage} ${s.name}`,
    `${s.percentage} %`,
    s.experiment,
    s.decision,
    s.outcome,
    ms(s.load?.p50),
    ms(s.load?.p99),
    s.load ? s.load.rps.toFixed(1) : '–',
    pct(s.load?.error_rate),
    s.faults.map((f) => `${f.name} on ${f.target} (${f.state})`).join('; '),
  ]),
)}
<h2>Success criteria</h2>
${table(
  ['#', 'criterion', 'target', 'measured', 'verdict'],
  record.criteria.map((c) => [c.index, c.name, c.criterion, c.measured, verdict(c.met)]),
)}
<h2>What broke</h2><ul class="bad">${(record.broke.length ? record.broke : ['nothing']).map((b) => `<li>${e(b)}</li>`).join('')}</ul>
<h2>What held</h2><ul class="ok">${(record.held.length ? record.held : ['nothing confirmed']).map((b) => `<li>${e(b)}</li>`).join('')}</ul>
<h2>Timeline</h2>
${table(
  ['time', 'stage', 'kind', 'entry'],
  timeline(record).map((r) => [r.at.slice(11, 23), r.stage, r.kind, r.text]),
)}
<h2>Action items</h2>
${table(
  ['action', 'owner', 'from'],
  record.actionItems.map((a) => [a.title, a.owner, a.source]),
)}
</body></html>
`;
}
