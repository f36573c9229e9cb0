/**
 * `faultline demo`: the brief's story in about a minute, on nothing but Node and npm.
 *
 * A payment service, its database (embedded PostgreSQL unless DATABASE_URL is set), a fault
 * proxy between them, real load and live numbers: the payment-DB-latency experiment runs
 * against the fragile build (the verdict shows the finding, with the numbers), then against
 * the resilient build (held). The demo succeeds when both verdicts come out as expected — the
 * experiment must tell a fragile service from a resilient one, or it proves nothing.
 */
import { join } from 'node:path';
import type { Journal } from '../journal/journal.js';
import type { RunEvent } from '../runner/runner.js';
import type { RunPlan } from '../run-plan/plan.js';
import { createProgressReporter, liveLoadLine } from '../cli/terminal.js';
import type { Build } from './payment-service.js';
import { SCENARIO_TITLES, type ScenarioName } from './scenarios.js';
import { DemoStack, type ScenarioRun } from './stack.js';

export interface DemoOptions {
  workDir: string;
  databaseUrl?: string | undefined;
  redisUrl?: string | undefined;
  scenario?: ScenarioName | undefined;
  signal?: AbortSignal | undefined;
  /** Writes a finished line. */
  print: (line: string) => void;
  /** Rewrites the live line in place (a TTY); when absent, live numbers print every few seconds. */
  live?: ((line: string | undefined) => void) | undefined;
}

export interface DemoResult {
  runs: ScenarioRun[];
  /** Fragile did not hold and resilient held. */
  asExpected: boolean;
  /** In a sentence. */
  conclusion: string;
}

export const BUILD_DESCRIPTIONS: Record<Build, string> = {
  fragile:
    'a pool of 4 with a 3 s wait for a connection, no query timeout, no retries, dependency errors left unhandled',
  resilient:
    'cockatiel: 1.5 s timeouts, 2 attempts with exponential backoff and jitter, circuit breakers, a bulkhead (32 + a queue of 64), a warm pool, cache fallbacks',
  'pool-refactor': 'the resilient build after a pool refactor: 4 connections and no queue',
};

const pct = (v: number | undefined): string =>
  v === undefined ? '—' : `${(v * 100).toFixed(1)} %`;
const dur = (v: number | undefined): string =>
  v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;

interface PhaseNumbers {
  p99?: number;
  error_rate?: number;
  completed?: number;
}

/** The load's numbers for a phase, when it was measured. */
export function phaseNumbers(
  journal: Journal,
  phase: 'before' | 'method' | 'after',
): PhaseNumbers | undefined {
  const phases = journal.faultline.load?.phases as
    Record<string, PhaseNumbers | undefined> | undefined;
  return phases?.[phase];
}

/**
 * "the service under test CRASHED …" when the payment service's process exited by itself during
 * the run: its exit code (or signal), how long after the first fault was applied, and the error
 * it died of (its stderr). The demo starts the service itself, so the runner cannot see the
 * exit; this line is where it shows.
 */
export function crashLine(run: ScenarioRun): string | undefined {
  const exit = run.crashed;
  if (!exit) return undefined;
  // The error it died of is the last one that starts a line (Node prints it before the stack);
  // earlier lines may be a library's complaints (ioredis logs unhandled connection errors).
  const why =
    exit.stderr.findLast((l) => /^(\w*Error|Error)\b/.test(l)) ??
    exit.stderr.find((l) => /Error|error:/.test(l)) ??
    exit.stderr.at(-1) ??
    '';
  const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${String(exit.signal)}`;
  const applied = run.journal.faultline.faults
    .map((fault) => (fault.applied_at ? Date.parse(fault.applied_at) : NaN))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b)[0];
  const when =
    applied === undefined
      ? ' before any fault was applied'
      : exit.at >= applied
        ? ` ${dur(exit.at - applied)} after the fault was applied`
        : '';
  return `the service under test CRASHED (${how})${when}: ${why.trim()}`;
}

/** The verdict of one run in a few lines: what happened, with the numbers. */
export function verdictLines(run: ScenarioRun): string[] {
  const f = run.journal.faultline;
  const before = phaseNumbers(run.journal, 'before');
  const during = phaseNumbers(run.journal, 'method');
  const lines = [`verdict: ${String(f.outcome).toUpperCase()} — ${f.reason ?? ''}`];
  // The crash comes first: it is the finding, and the outcome's reason (a stop condition, a
  // failed probe) is only its consequence.
  const crash = crashLine(run);
  if (crash) lines.push(`  ${crash}`);
  if (during)
    lines.push(
      `  under the fault: p99 ${dur(during.p99)}, errors ${pct(during.error_rate)} (baseline p99 ${dur(before?.p99)}, errors ${pct(before?.error_rate)})`,
    );
  if (f.stop)
    lines.push(
      `  stop condition "${f.stop.condition}" fired at ${f.stop.value}; every fault was gone ${f.stop.reaction_ms ?? '?'} ms later`,
    );
  const r = run.reconciliation;
  lines.push(
    `  reconciliation: ${r.acknowledged} payments acknowledged, ${r.stored} stored, ${r.missing} lost`,
  );
  for (const fault of f.faults) {
    lines.push(
      `  fault ${fault.name}: ${fault.state}${fault.touched ? `, touched ${fault.touched.connections} connection(s)` : ''}`,
    );
  }
  return lines;
}

/** The summary table: one row per run. */
export function summaryTable(runs: readonly ScenarioRun[]): string[] {
  const rows = [
    ['build', 'verdict', 'p99 under fault', 'errors under fault', 'crashed', 'payments ack/stored'],
  ];
  for (const run of runs) {
    const during = phaseNumbers(run.journal, 'method');
    rows.push([
      run.build,
      String(run.journal.faultline.outcome),
      dur(during?.p99),
      pct(during?.error_rate),
      run.crashed ? `yes (exit ${String(run.crashed.code ?? run.crashed.signal)})` : 'no',
      `${run.reconciliation.acknowledged}/${run.reconciliation.stored}`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/** Renders run events: finished lines through `print`, live numbers through `live`. */
function reporter(plan: RunPlan, options: DemoOptions): (event: RunEvent) => void {
  const progress = createProgressReporter(plan, (l) => options.print(`  ${l}`));
  let lastPrinted = 0;
  return (event) => {
    if (event.type === 'load') {
      const line = `  ${liveLoadLine(event)}`;
      if (options.live) options.live(line);
      else if (event.elapsedMs - lastPrinted >= 2_000) {
        lastPrinted = event.elapsedMs;
        options.print(line);
      }
      return;
    }
    options.live?.(undefined);
    progress(event);
  };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const scenario = options.scenario ?? 'payment-db-latency';
  const { print } = options;
  print(
    'faultline demo — a payment service, its database, a fault between them, real load, live numbers',
  );
  print('');
  const stack = await DemoStack.start({
    workDir: options.workDir,
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    signal: options.signal,
    log: print,
  });
  const runs: ScenarioRun[] = [];
  try {
    print('');
    print(`experiment: ${SCENARIO_TITLES[scenario]}`);
    print(
      '  hypothesis: p99 < 2 s and errors < 1 % under load (25 payments/s), no acknowledged payment lost',
    );
    print(
      '  safety: the fault is removed at once when errors pass 5 % for 3 s; it carries a 15 s lease',
    );
    const builds: Build[] = ['fragile', 'resilient'];
    for (const [i, build] of builds.entries()) {
      if (options.signal?.aborted) break;
      print('');
      print(`run ${i + 1}/${builds.length} — the ${build} build: ${BUILD_DESCRIPTIONS[build]}`);
      // The plan arrives (onPlan) before the run's first event.
      let render: ((event: RunEvent) => void) | undefined;
      const run = await stack.runScenario({
        build,
        scenario,
        onPlan: (plan) => {
          render = reporter(plan, options);
        },
        onEvent: (event) => render?.(event),
      });
      options.live?.(undefined);
      runs.push(run);
      for (const line of verdictLines(run)) print(`  ${line}`);
      print(`  experiment: ${run.experimentFile}`);
      print(`  journal:    ${run.journalPath}`);
      print(`  report:     ${run.reportPath}`);
    }
  } finally {
    options.live?.(undefined);
    await stack.close();
  }
  const outcome = (b: Build): string | undefined =>
    runs.find((r) => r.build === b)?.journal.faultline.outcome;
  const fragile = outcome('fragile');
  const resilient = outcome('resilient');
  const interrupted =
    runs.length < 2 || runs.some((r) => r.journal.faultline.outcome === 'interrupted');
  const asExpected =
    !interrupted &&
    fragile !== undefined &&
    ['deviated', 'aborted'].includes(fragile) &&
    resilient === 'held';
  let conclusion: string;
  if (interrupted) conclusion = 'interrupted: every fault was removed and every process stopped';
  else if (asExpected) {
    const crashed = runs.find((r) => r.build === 'fragile')?.crashed;
    const finding = crashed
      ? `crashed under the fault (exit ${String(crashed.code ?? crashed.signal)}) and ${fragile === 'aborted' ? 'was aborted by the safety stop' : 'deviated'}`
      : `${fragile === 'aborted' ? 'was aborted by the safety stop' : 'deviated'} under the fault`;
    conclusion = `as expected: the fragile build ${finding}, the resilient build held`;
  } else
    conclusion = `NOT as expected: fragile ${String(fragile)}, resilient ${String(resilient)} — the experiment did not tell them apart`;
  print('');
  for (const line of summaryTable(runs)) print(line);
  print('');
  print(conclusion);
  print(`everything the demo wrote: ${join(options.workDir)}`);
  return { runs, asExpected, conclusion };
}
