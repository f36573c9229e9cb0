/**
 * The Markdown summary: what a pull request comment or a GitHub Actions step summary shows —
 * the verdict and why, the resilience score, every hypothesis with its measured value, the
 * faults and what they touched, load by phase and recovery. GitHub renders it; a terminal reads
 * it as it is.
 */
import { describeTouched } from '../journal/touched.js';
import type { ReportModel } from './report-model.js';
import type { ServiceScore } from './score.js';

/** Text safe inside a Markdown table cell: pipes escaped, line breaks flattened. */
export function mdCell(value: unknown): string {
  return String(value ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;');
}

const ICONS: Record<string, string> = {
  held: '✅',
  deviated: '❌',
  aborted: '🛑',
  inconclusive: '❔',
  interrupted: '⏹️',
  residue: '⚠️',
  unfinished: '…',
};

const fmtMs = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;

function table(head: string[], rows: unknown[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

/** Renders the model as a Markdown summary. */
export function renderMarkdown(model: ReportModel): string {
  const v = model.verdict;
  const lines: string[] = [
    `## ${ICONS[v.outcome] ?? ''} faultline: ${mdCell(model.title)} — ${v.outcome.toUpperCase()}${v.exitCode === undefined ? '' : ` (exit ${v.exitCode})`}`,
    '',
    `> ${mdCell(v.reason)}`,
    '',
    `**Resilience score:** ${model.score.percent === null ? 'not scored' : `${model.score.percent} %`} (${mdCell(model.score.note)}) · **service:** ${mdCell(model.service)}`,
    '',
  ];
  if (v.why.length > 0) lines.push(...v.why.map((w) => `- ${mdCell(w)}`), '');
  if (model.hypotheses.length > 0) {
    lines.push('### Hypotheses', '');
    lines.push(
      ...table(
        ['phase', 'hypothesis', 'expected', 'measured', 'checks', 'result'],
        model.hypotheses.map((r) => [
          r.phase,
          r.name,
          r.expected,
          r.measured,
          r.failed ? `${r.failed}/${r.checks} failed` : r.checks,
          r.met ? '✔ held' : '✗ deviated',
        ]),
      ),
      '',
    );
  }
  if (model.faults.length > 0) {
    lines.push('### Faults', '');
    lines.push(
      ...table(
        ['fault', 'target', 'what', 'in place', 'touched', 'state'],
        model.faults.map((f) => [
          f.name,
          f.target,
          f.describe,
          f.activeSeconds === undefined ? '–' : `${f.activeSeconds.toFixed(2)} s`,
          describeTouched(f.touched),
          `${f.state}${f.gone === true ? ' (verified gone)' : ''}`,
        ]),
      ),
      '',
    );
  }
  if (model.load) {
    lines.push('### Load by phase', '');
    lines.push(
      ...table(
        ['phase', 'p50', 'p99', 'throughput', 'error rate'],
        model.load.phases.map((p) => [
          p.phase,
          fmtMs(p.p50),
          fmtMs(p.p99),
          `${p.rps.toFixed(1)} req/s`,
          `${(p.errorRate * 100).toFixed(2)} %`,
        ]),
      ),
      '',
    );
    if (model.load.shift) lines.push(`During the method, ${mdCell(model.load.shift)}.`, '');
    const t = model.recovery?.recoveredAfterMs;
    lines.push(
      `Time to recovery: ${t === null ? '**not recovered** (residue)' : t === undefined ? 'not measured' : `${t} ms`}.`,
      '',
    );
    if (model.load.trustworthy === false)
      lines.push(`Load measurement not trustworthy: ${mdCell(model.load.problems.join('; '))}`, '');
  }
  if (model.stop)
    lines.push(
      `Stop condition ${mdCell(model.stop.condition)} breached at ${mdCell(model.stop.value)}; faults removed ${model.stop.reactionMs ?? '?'} ms later.`,
      '',
    );
  lines.push(
    `<sub>${mdCell(`run ${model.runId} · ${model.file} · ${model.start} · ${model.durationSeconds?.toFixed(1) ?? '?'} s · faultline ${model.run.faultlineVersion} · Node ${model.run.node} · ${model.run.platform}`)}</sub>`,
    '',
  );
  return lines.join('\n');
}

/** The per-service resilience scores as Markdown (for `faultline report --summary`). */
export function renderScoreMarkdown(services: readonly ServiceScore[]): string {
  const lines = ['## faultline resilience scores', ''];
  lines.push(
    ...table(
      ['service', 'score', 'experiment', 'weight', 'counted run', 'probe success', 'runs'],
      services.flatMap((s) =>
        s.experiments.map((e, i) => [
          i === 0 ? s.service : '',
          i === 0 ? (s.percent === null ? 'not scored' : `${s.percent} %`) : '',
          e.title,
          e.weight,
          e.counted ? `${e.counted.outcome} (${e.counted.start})` : 'none scored',
          e.counted?.score.percent === undefined || e.counted.score.percent === null
            ? '–'
            : `${e.counted.score.percent} %`,
          `${e.runs}${e.latestUnscored ? ` (latest: ${e.latestUnscored.outcome}, not scored)` : ''}`,
        ]),
      ),
    ),
    '',
  );
  return lines.join('\n');
}
