/**
 * The catalogue as a terminal table, Markdown and JSON. Each shows the score's four parts, so
 * a reader sees why a scenario ranks where it does, not only that it does.
 */
import type { Architecture } from './architecture-schema.js';
import { WEIGHTS, type Scenario } from './catalogue.js';
import type { PlannedScenario } from './plan.js';

/** The terminal table: the first `rows` scenarios, each with a "why" line. */
export function renderTable(catalogue: readonly Scenario[], rows: number): string {
  const shown = catalogue.slice(0, rows);
  const titleWidth = Math.min(48, Math.max(8, ...shown.map((s) => s.title.length)));
  const num = (n: number, w: number): string => n.toFixed(1).padStart(w);
  const lines: string[] = [];
  lines.push(`${'#'.padStart(3)}  ${'score'.padStart(5)}  ${'scenario'.padEnd(titleWidth)}  ${'impact'.padStart(6)} ${'reach'.padStart(5)} ${'likely'.padStart(6)} ${'missing'.padStart(7)}`);
  lines.push(`${''.padStart(3)}  ${''.padStart(5)}  ${''.padEnd(titleWidth)}  ${`/${WEIGHTS.impact}`.padStart(6)} ${`/${WEIGHTS.reach}`.padStart(5)} ${`/${WEIGHTS.likelihood}`.padStart(6)} ${`/${WEIGHTS.exposure}`.padStart(7)}`);
  for (const s of shown) {
    const title = s.title.length > titleWidth ? `${s.title.slice(0, titleWidth - 1)}…` : s.title;
    lines.push(`${String(s.rank).padStart(3)}  ${num(s.score, 5)}  ${title.padEnd(titleWidth)}  ${num(s.parts.impact.points, 6)} ${num(s.parts.reach.points, 5)} ${num(s.parts.likelihood.points, 6)} ${num(s.parts.exposure.points, 7)}`);
    lines.push(`${''.padStart(12)}why: ${whyLine(s)}`);
  }
  if (catalogue.length > shown.length) lines.push(`${catalogue.length - shown.length} more scenario(s): --top ${catalogue.length}, --format md or -o DIR for all of them`);
  return `${lines.join('\n')}\n`;
}

/** One line: what breaks, how many depend on it, how likely, what is missing. */
export function whyLine(s: Scenario): string {
  const missing = s.mitigations.filter((m) => !m.present).map((m) => m.name);
  const shortMissing = missing.length > 3 ? [...missing.slice(0, 3), `${missing.length - 3} more`] : missing;
  return [
    s.parts.impact.why.replace(/ × severity .*$/, ''),
    s.parts.reach.why,
    s.parts.likelihood.why,
    missing.length ? `missing: ${shortMissing.join('; ')}` : 'every listed mitigation is declared',
  ].join(' | ');
}

/** The Markdown catalogue: the formula, the whole ranking, then each top scenario in detail. */
export function renderMarkdown(architecture: Architecture, catalogue: readonly Scenario[], planned: readonly PlannedScenario[]): string {
  const out: string[] = [];
  out.push(`# Failure catalogue: ${architecture.name}`, '');
  out.push(`${catalogue.length} failure scenarios from \`faultline plan\`, ranked by score (0–100):`, '');
  out.push(`score = ${WEIGHTS.impact}·impact + ${WEIGHTS.reach}·reach + ${WEIGHTS.likelihood}·likelihood + ${WEIGHTS.exposure}·missing mitigations (each factor 0–1; see docs/planner.md).`, '');
  out.push('| # | score | scenario | family | impact | reach | likelihood | missing | business impact |');
  out.push('|---:|---:|---|---|---:|---:|---:|---:|---|');
  for (const s of catalogue) {
    out.push(`| ${s.rank} | ${s.score.toFixed(1)} | ${md(s.title)} | ${s.family} | ${s.parts.impact.points.toFixed(1)} | ${s.parts.reach.points.toFixed(1)} | ${s.parts.likelihood.points.toFixed(1)} | ${s.parts.exposure.points.toFixed(1)} | ${md(s.businessImpact)} |`);
  }
  out.push('');
  for (const p of planned) {
    const s = p.scenario;
    out.push(`## ${s.rank}. ${md(s.title)} (score ${s.score.toFixed(1)})`, '');
    out.push(`${md(s.effect)}`, '', `**Business impact:** ${md(s.businessImpact)}`, '');
    out.push('**Why it ranks here**', '');
    out.push('| factor | value | weight | points | why |', '|---|---:|---:|---:|---|');
    for (const [factor, part] of Object.entries(s.parts)) {
      out.push(`| ${factor === 'exposure' ? 'missing mitigations' : factor} | ${part.value} | ${part.weight} | ${part.points.toFixed(1)} | ${md(part.why)} |`);
    }
    out.push('');
    out.push('**Mitigations**', '');
    for (const m of s.mitigations) out.push(`- ${m.present ? '[x]' : '[ ]'} ${md(m.name)}`);
    out.push('', '**Steady-state hypotheses**', '');
    for (const h of p.hypotheses) out.push(`- ${md(h.statement)} — ${md(h.derivedFrom)} (${h.check}${h.expression ? `: \`${h.expression}\`` : ''})`);
    out.push('', '**Experiments**', '');
    for (const e of p.experiments) out.push('skipped' in e ? `- ${e.variant}: none (${md(e.skipped)})` : `- ${e.variant}: [experiments/${e.file}](experiments/${e.file})`);
    for (const w of p.warnings) out.push(`- warning: ${md(w)}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The JSON catalogue: every scenario with its parts; the top ones with hypotheses and files. */
export function renderJson(architecture: Architecture, catalogue: readonly Scenario[], planned: readonly PlannedScenario[]): string {
  const document = {
    architecture: architecture.name,
    environment: architecture.environment,
    weights: WEIGHTS,
    scenarios: catalogue,
    top: planned.map((p) => ({
      id: p.scenario.id,
      rank: p.scenario.rank,
      hypotheses: p.hypotheses,
      experiments: p.experiments.map((e) => ('skipped' in e ? { variant: e.variant, skipped: e.skipped } : { variant: e.variant, file: `experiments/${e.file}` })),
      warnings: p.warnings,
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
