/**
 * The catalogue as a terminal table, Markdown and JSON. Each shows the score's four parts, so
 * a reader sees why a scenario ranks where it does, not only that it does.
 */
import type { Architecture } from './architecture-schema.js';
import { WEIGHTS, type Scenario } from './catalogue.js';
import type { PlannedScenario } from './planner.js';

/** The top rows with their place; `all` adds every other row of the catalogue, by rank. */
export interface TableOptions {
  all?: boolean | undefined;
  passedOver?: ReadonlyArray<{ scenario: Scenario; why: string }> | undefined;
}

/**
 * The terminal table: the top (by the coverage rule, in score order), each row with a "why"
 * line and its other variants; with `all`, the whole catalogue by rank, the top marked.
 */
export function renderTable(
  catalogue: readonly Scenario[],
  top: ReadonlyArray<{ scenario: Scenario; position: number }>,
  options: TableOptions = {},
): string {
  const position = new Map(top.map((t) => [t.scenario.id, t.position]));
  const shown = options.all ? [...catalogue] : top.map((t) => t.scenario);
  const titleWidth = Math.min(48, Math.max(8, ...shown.map((s) => s.title.length)));
  const num = (n: number, w: number): string => n.toFixed(1).padStart(w);
  const lines: string[] = [];
  lines.push(
    `${'#'.padStart(3)} ${'rank'.padStart(4)}  ${'score'.padStart(5)}  ${'scenario'.padEnd(titleWidth)}  ${'impact'.padStart(6)} ${'reach'.padStart(5)} ${'likely'.padStart(6)} ${'missing'.padStart(7)}`,
  );
  lines.push(
    `${''.padStart(3)} ${''.padStart(4)}  ${''.padStart(5)}  ${''.padEnd(titleWidth)}  ${`/${WEIGHTS.impact}`.padStart(6)} ${`/${WEIGHTS.reach}`.padStart(5)} ${`/${WEIGHTS.likelihood}`.padStart(6)} ${`/${WEIGHTS.exposure}`.padStart(7)}`,
  );
  for (const s of shown) {
    const title = s.title.length > titleWidth ? `${s.title.slice(0, titleWidth - 1)}…` : s.title;
    const place = position.get(s.id);
    lines.push(
      `${(place === undefined ? '' : String(place)).padStart(3)} ${String(s.rank).padStart(4)}  ${num(s.score, 5)}  ${title.padEnd(titleWidth)}  ${num(s.parts.impact.points, 6)} ${num(s.parts.reach.points, 5)} ${num(s.parts.likelihood.points, 6)} ${num(s.parts.exposure.points, 7)}`,
    );
    if (options.all && place === undefined) continue;
    lines.push(`${''.padStart(15)}why: ${whyLine(s)}`);
    const others = otherVariants(s);
    if (others) lines.push(`${''.padStart(15)}also: ${others}`);
  }
  for (const p of options.all ? [] : (options.passedOver ?? []))
    lines.push(
      `not in the top: #${p.scenario.rank} ${p.scenario.title} (${p.scenario.score.toFixed(1)}): ${p.why}`,
    );
  if (!options.all && catalogue.length > shown.length)
    lines.push(
      `${catalogue.length - shown.length} more row(s): --all, --format json or --out-dir DIR for all of them`,
    );
  return `${lines.join('\n')}\n`;
}

/** The row's variants after its lead, with their scores: `pool-exhaustion 77.1, …`. */
export function otherVariants(s: Scenario): string {
  return s.variants
    .slice(1)
    .map((v) => `${v.family} ${v.score.toFixed(1)}`)
    .join(', ');
}

/** One line: what breaks, how many depend on it, how likely, what is missing. */
export function whyLine(s: Scenario): string {
  const missing = s.mitigations.filter((m) => !m.present).map((m) => m.name);
  const shortMissing =
    missing.length > 3 ? [...missing.slice(0, 3), `${missing.length - 3} more`] : missing;
  return [
    s.parts.impact.why.replace(/ × severity .*$/, ''),
    s.parts.reach.why,
    s.parts.likelihood.why,
    missing.length ? `missing: ${shortMissing.join('; ')}` : 'every listed mitigation is declared',
  ].join(' | ');
}

/** The Markdown catalogue: the formula, the whole ranking, then each top scenario in detail. */
export function renderMarkdown(
  architecture: Architecture,
  catalogue: readonly Scenario[],
  planned: readonly PlannedScenario[],
  passedOver: ReadonlyArray<{ scenario: Scenario; why: string }> = [],
): string {
  const position = new Map(planned.map((p) => [p.scenario.id, p.position]));
  const out: string[] = [];
  out.push(`# Failure catalogue: ${architecture.name}`, '');
  out.push(
    `${catalogue.length} failure scenarios from \`faultline plan\` (one per failure mode and component), ranked by score (0–100); the ${planned.length} in the top column are the top, chosen for coverage as well as score (docs/planner.md):`,
    '',
  );
  out.push(
    `score = ${WEIGHTS.impact}·impact + ${WEIGHTS.reach}·reach + ${WEIGHTS.likelihood}·likelihood + ${WEIGHTS.exposure}·missing mitigations (each factor 0–1; see docs/planner.md).`,
    '',
  );
  out.push(
    '| rank | top | score | scenario | mode | impact | reach | likelihood | missing | other variants | business impact |',
  );
  out.push('|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|');
  for (const s of catalogue) {
    out.push(
      `| ${s.rank} | ${position.get(s.id) ?? ''} | ${s.score.toFixed(1)} | ${md(s.title)} | ${s.mode} | ${s.parts.impact.points.toFixed(1)} | ${s.parts.reach.points.toFixed(1)} | ${s.parts.likelihood.points.toFixed(1)} | ${s.parts.exposure.points.toFixed(1)} | ${md(otherVariants(s))} | ${md(s.businessImpact)} |`,
    );
  }
  out.push('');
  if (passedOver.length) {
    out.push('**Not in the top although their score ranks them there**', '');
    for (const p of passedOver)
      out.push(
        `- ${p.scenario.rank}. ${md(p.scenario.title)} (${p.scenario.score.toFixed(1)}): ${md(p.why)}`,
      );
    out.push('');
  }
  for (const p of planned) {
    const s = p.scenario;
    out.push(`## ${p.position}. ${md(s.title)} (score ${s.score.toFixed(1)}, rank ${s.rank})`, '');
    out.push(`**In the top as:** ${md(p.why)}`, '');
    out.push(md(s.effect), '', `**Business impact:** ${md(s.businessImpact)}`, '');
    out.push('**Why it ranks here**', '');
    out.push('| factor | value | weight | points | why |', '|---|---:|---:|---:|---|');
    for (const [factor, part] of Object.entries(s.parts)) {
      out.push(
        `| ${factor === 'exposure' ? 'missing mitigations' : factor} | ${part.value} | ${part.weight} | ${part.points.toFixed(1)} | ${md(part.why)} |`,
      );
    }
    out.push('');
    if (s.variants.length > 1) {
      out.push(
        '**Variants of this failure** (each scored on its own; the first leads the row)',
        '',
      );
      for (const v of s.variants) out.push(`- ${v.family}: ${md(v.title)}, ${v.score.toFixed(1)}`);
      out.push('');
    }
    out.push('**Mitigations**', '');
    for (const m of s.mitigations) out.push(`- ${m.present ? '[x]' : '[ ]'} ${md(m.name)}`);
    out.push('', '**Steady-state hypotheses**', '');
    for (const h of p.hypotheses)
      out.push(
        `- ${md(h.statement)} — ${md(h.derivedFrom)} (${h.check}${h.expression ? `: \`${h.expression}\`` : ''})`,
      );
    out.push('', '**Experiments**', '');
    for (const e of p.experiments)
      out.push(
        'skipped' in e
          ? `- ${e.variant}: none (${md(e.skipped)})`
          : `- ${e.variant}: [experiments/${e.file}](experiments/${e.file})`,
      );
    for (const w of p.warnings) out.push(`- warning: ${md(w)}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The JSON catalogue: every scenario with its parts; the top ones with hypotheses and files. */
export function renderJson(
  architecture: Architecture,
  catalogue: readonly Scenario[],
  planned: readonly PlannedScenario[],
  passedOver: ReadonlyArray<{ scenario: Scenario; why: string }> = [],
): string {
  const document = {
    architecture: architecture.name,
    environment: architecture.environment,
    weights: WEIGHTS,
    scenarios: catalogue,
    top: planned.map((p) => ({
      position: p.position,
      id: p.scenario.id,
      rank: p.scenario.rank,
      why: p.why,
      hypotheses: p.hypotheses,
      experiments: p.experiments.map((e) =>
        'skipped' in e
          ? { variant: e.variant, skipped: e.skipped }
          : { variant: e.variant, file: `experiments/${e.file}` },
      ),
      warnings: p.warnings,
    })),
    passedOver: passedOver.map((p) => ({ id: p.scenario.id, rank: p.scenario.rank, why: p.why })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
