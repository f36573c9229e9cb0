/**
 * JUnit XML for CI: every CI system reads it, so a failed hypothesis shows up as a failed test
 * with the measured value, next to the application's own tests.
 *
 * ```
 *   <testsuites name="faultline: TITLE">
 *     <testsuite name="TITLE: before|during|method|after">   one <testcase> per hypothesis (probe or threshold)
 *     <testsuite name="TITLE: faults">                       one per fault: failed if it touched nothing or stayed behind
 *     <testsuite name="TITLE: safety">                       one per stop condition and rollback action
 *     <testsuite name="TITLE: verdict">                      the run's outcome: failed unless every hypothesis held
 * ```
 *
 * A deviation is a `<failure>` whose message is the measured value against the expected one; a
 * probe that could not run is an `<error>`. Test case names are stable across runs (the probe's
 * name), so CI history tracks one hypothesis over time.
 */
import { describeTouched, touchedNothing } from '../journal/touched.js';
import type { CheckPhase, HypothesisRow, ReportModel } from './report-model.js';

/** Characters XML 1.0 forbids, even escaped. */
// eslint-disable-next-line no-control-regex -- matching control characters is this expression's purpose
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for XML content and attribute values. */
export function escapeXml(value: unknown): string {
  return String(value ?? '')
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  name: string;
  classname: string;
  time: number;
  failure?: { type: string; message: string; detail: string } | undefined;
  error?: { type: string; message: string; detail: string } | undefined;
  skipped?: string | undefined;
}

interface Suite {
  name: string;
  cases: Case[];
}

const PHASES: CheckPhase[] = ['before', 'during', 'method', 'after'];

function hypothesisCase(row: HypothesisRow, classname: string): Case {
  const detail = [
    `measured: ${row.measured}`,
    `expected: ${row.expected}`,
    `checks: ${row.checks}, failed: ${row.failed}`,
    ...(row.reason ? [`reason: ${row.reason}`] : []),
  ].join('\n');
  const c: Case = { name: row.name, classname, time: row.seconds };
  if (row.met) return c;
  const message = `${row.name}: measured ${row.measured}, expected ${row.expected}${row.phase === 'during' ? ` (${row.failed} of ${row.checks} checks failed)` : ''}`;
  if (row.errored) c.error = { type: 'probe-error', message, detail };
  else c.failure = { type: 'deviated', message, detail };
  return c;
}

/** The suites of a report, before rendering (also what tests inspect). */
function suites(model: ReportModel): Suite[] {
  const base = `faultline.${model.service.replace(/[^\w.-]+/g, '_')}`;
  const out: Suite[] = [];
  for (const phase of PHASES) {
    const rows = model.hypotheses.filter((r) => r.phase === phase);
    if (rows.length > 0)
      out.push({
        name: `${model.title}: ${phase}`,
        cases: rows.map((r) => hypothesisCase(r, `${base}.${phase}`)),
      });
  }
  if (model.faults.length > 0) {
    out.push({
      name: `${model.title}: faults`,
      cases: model.faults.map((f) => {
        const c: Case = {
          name: `${f.name} on ${f.target}`,
          classname: `${base}.faults`,
          time: f.activeSeconds ?? 0,
        };
        const touched = describeTouched(f.touched, (n) => `${n} byte(s)`);
        const detail = `${f.describe}\nstate: ${f.state}\ntouched: ${touched}${f.error ? `\nerror: ${f.error}` : ''}`;
        if (f.state === 'failed')
          c.error = {
            type: 'fault-not-applied',
            message: `${f.name} could not be applied: ${f.error ?? ''}`,
            detail,
          };
        else if (f.state === 'residue' || f.gone === false)
          c.failure = {
            type: 'residue',
            message: `${f.name} could not be removed from ${f.target}`,
            detail,
          };
        else if (f.efficacy?.by === 'none') {
          c.failure = {
            type: 'not-shown-to-reach',
            message: `${f.name} was not shown to reach the system: ${f.efficacy.detail}`,
            detail,
          };
        } else if (!f.efficacy && touchedNothing(f.touched)) {
          c.failure = {
            type: 'touched-nothing',
            message: `${f.name} touched no traffic: the hypothesis was not tested (is the service connected through the proxy?)`,
            detail,
          };
        }
        return c;
      }),
    });
  }
  const safety: Case[] = [];
  for (const condition of model.stopConditions) {
    const c: Case = { name: `stop condition: ${condition}`, classname: `${base}.safety`, time: 0 };
    if (model.stop?.condition === condition) {
      c.failure = {
        type: 'aborted',
        message: `stop condition ${condition} breached at ${model.stop.value}`,
        detail: `measurable at ${model.stop.measurableAt}; every fault removed ${model.stop.reactionMs ?? '?'} ms later`,
      };
    }
    safety.push(c);
  }
  if (model.stop && !model.stopConditions.includes(model.stop.condition)) {
    safety.push({
      name: `stop condition: ${model.stop.condition}`,
      classname: `${base}.safety`,
      time: 0,
      failure: {
        type: 'aborted',
        message: `stop condition ${model.stop.condition} breached at ${model.stop.value}`,
        detail: '',
      },
    });
  }
  for (const r of model.rollbacks) {
    const c: Case = { name: `rollback: ${r.name}`, classname: `${base}.safety`, time: 0 };
    if (r.status === 'failed')
      c.error = {
        type: 'rollback-failed',
        message: `rollback ${r.name} failed: ${r.reason ?? ''}`,
        detail: r.reason ?? '',
      };
    else if (r.status !== 'succeeded') c.skipped = r.status;
    safety.push(c);
  }
  if (safety.length > 0) out.push({ name: `${model.title}: safety`, cases: safety });
  const verdict: Case = {
    name: 'outcome',
    classname: `${base}.verdict`,
    time: model.durationSeconds ?? 0,
  };
  if (model.verdict.outcome !== 'held') {
    verdict.failure = {
      type: model.verdict.outcome,
      message: `${model.verdict.outcome}: ${model.verdict.reason}`,
      detail: model.verdict.why.join('\n'),
    };
  }
  out.push({ name: `${model.title}: verdict`, cases: [verdict] });
  return out;
}

const secs = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : '0');

function renderCase(c: Case): string {
  const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(c.classname)}" time="${secs(c.time)}"`;
  const body: string[] = [];
  if (c.failure)
    body.push(
      `      <failure type="${escapeXml(c.failure.type)}" message="${escapeXml(c.failure.message)}">${escapeXml(c.failure.detail)}</failure>`,
    );
  if (c.error)
    body.push(
      `      <error type="${escapeXml(c.error.type)}" message="${escapeXml(c.error.message)}">${escapeXml(c.error.detail)}</error>`,
    );
  if (c.skipped) body.push(`      <skipped message="${escapeXml(c.skipped)}"/>`);
  return body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`;
}

/** Renders the model as a JUnit XML document. */
export function renderJunit(model: ReportModel): string {
  const all = suites(model);
  const count = (s: Suite[], f: (c: Case) => boolean): number =>
    s.reduce((n, x) => n + x.cases.filter(f).length, 0);
  const totals = (s: Suite[]): string =>
    `tests="${count(s, () => true)}" failures="${count(s, (c) => !!c.failure)}" errors="${count(s, (c) => !!c.error)}" skipped="${count(s, (c) => !!c.skipped)}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(`faultline: ${model.title}`)}" ${totals(all)} time="${secs(model.durationSeconds ?? 0)}">`,
  ];
  for (const suite of all) {
    const time = suite.cases.reduce((n, c) => n + c.time, 0);
    lines.push(
      `  <testsuite name="${escapeXml(suite.name)}" ${totals([suite])} time="${secs(time)}" timestamp="${escapeXml(model.start)}">`,
    );
    if (suite === all[0]) {
      lines.push('    <properties>');
      for (const [k, v] of [
        ['faultline.outcome', model.verdict.outcome],
        ['faultline.exit_code', model.verdict.exitCode ?? ''],
        ['faultline.run_id', model.runId],
        ['faultline.file', model.file],
        ['faultline.resilience_score', model.score.percent ?? 'not scored'],
      ] as const) {
        lines.push(`      <property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`);
      }
      lines.push('    </properties>');
    }
    for (const c of suite.cases) lines.push(renderCase(c));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
