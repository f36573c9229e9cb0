/**
 * What the terminal shows during `faultline run`: one line per thing that happens, each
 * stamped with the elapsed time and, for waits, what is left of the run's maximum duration;
 * then a summary. During-method hypothesis checks print only when their verdict changes, so
 * a long run stays readable.
 */
import { describeShift } from '../load/latency-shift.js';
import type { Journal } from '../journal/journal.js';
import type { RunEvent } from '../runner/runner.js';
import type { RunPlan } from '../run-plan/plan.js';
import { describeTouched, type FaultDriver } from '../backends/driver.js';

export interface Printer {
  (line: string): void;
}

function clock(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const PHASE_TITLES: Record<string, string> = {
  prepare: 'preparing targets',
  before: 'steady state before the method (the gate)',
  method: 'method',
  after: 'steady state after the method',
  cleanup: 'removing every fault',
  rollbacks: 'rollbacks',
  verification: 'verifying that every fault is gone',
};

/** Renders run events as lines. */
export function createProgressReporter(plan: RunPlan, print: Printer): (event: RunEvent) => void {
  const start = Date.now();
  let duringMet: boolean | undefined;
  let duringCount = 0;
  const stopStates = new Map<string, string>();
  const stamp = (): string => `[${clock(Date.now() - start).padStart(6)}]`;
  return (event) => {
    switch (event.type) {
      case 'phase': {
        if (event.phase === 'done') return;
        const left = plan.maxDurationMs - event.elapsedMs;
        const limit = ['before', 'method', 'after'].includes(event.phase)
          ? ` — ${clock(Math.max(0, left))} left of the ${clock(plan.maxDurationMs)} limit`
          : '';
        print(`${stamp()} ${PHASE_TITLES[event.phase] ?? event.phase}${limit}`);
        return;
      }
      case 'activity-start':
        return;
      case 'activity-end': {
        const r = event.run;
        const mark =
          r.status === 'failed' || r.tolerance_met === false
            ? '✗'
            : r.status === 'interrupted'
              ? '…'
              : '✔';
        const why = r.reason ? `: ${r.reason}` : '';
        print(`${stamp()}   ${mark} ${r.name} (${Math.round(r.duration * 1000)} ms)${why}`);
        return;
      }
      case 'hypothesis':
        if (event.phase !== 'during') {
          print(`${stamp()}   steady state ${event.state.steady_state_met ? 'met' : 'NOT met'}`);
          return;
        }
        duringCount++;
        if (duringMet !== event.state.steady_state_met) {
          duringMet = event.state.steady_state_met;
          const failing = event.state.probes
            .filter((p) => p.tolerance_met !== true)
            .map((p) => `${p.name}${p.reason ? `: ${p.reason}` : ''}`);
          print(
            `${stamp()}   steady state during (check ${duringCount}): ${duringMet ? 'met' : `NOT met — ${failing.join('; ')}`}`,
          );
        }
        return;
      case 'fault-applied':
        print(
          `${stamp()}   ⚡ ${event.fault.name}: ${event.fault.describe} (lease until ${String(event.fault.expires_at?.slice(11, 19))} UTC)`,
        );
        return;
      case 'fault-removed': {
        const f = event.fault;
        const t = f.touched
          ? ` — touched ${f.touched.connections} connection(s), ${bytes(f.touched.bytes)}${f.touched.requests ? `, ${f.touched.requests} request(s)` : ''}`
          : '';
        print(
          `${stamp()}   ${f.state === 'removed' ? '↺' : '!!'} ${f.name} ${f.state === 'removed' ? 'removed' : `NOT removed: ${f.error ?? ''}`}${t}`,
        );
        return;
      }
      case 'wait': {
        const left = plan.maxDurationMs - (Date.now() - start);
        print(
          `${stamp()}   … waiting ${clock(event.ms)} (${clock(Math.max(0, left))} left of the ${clock(plan.maxDurationMs)} limit)`,
        );
        return;
      }
      case 'pause':
        print(`${stamp()}   … pause ${clock(event.ms)} ${event.when} ${event.name}`);
        return;
      case 'warning':
        print(`${stamp()}   warning: ${event.message}`);
        return;
      case 'service':
        print(`${stamp()}   ${event.message}`);
        return;
      case 'load':
        return; // live numbers are for live lines (see liveLoadLine), not for the log
      case 'stop-condition': {
        // A line when a condition starts or stops breaching; failures are warnings already.
        const state = event.record.state;
        if (state === stopStates.get(event.record.name)) return;
        const before = stopStates.get(event.record.name);
        stopStates.set(event.record.name, state);
        if (state === 'breaching' || state === 'breached')
          print(
            `${stamp()}   stop condition ${event.record.name}: ${state === 'breached' ? 'BREACHED' : `breaching (for ${clock(event.record.for_ms)} before it stops the run)`}: ${event.record.last_value ?? ''}`,
          );
        else if (state === 'ok' && (before === 'breaching' || before === 'breached'))
          print(
            `${stamp()}   stop condition ${event.record.name}: back within bounds (${event.record.last_value ?? ''})`,
          );
        return;
      }
    }
  };
}

/** The plan, for `--dry-run` and the head of a run. */
export function describePlan(plan: RunPlan, drivers: ReadonlyMap<string, FaultDriver>): string[] {
  const lines = [`${plan.title}  (${plan.format} format, ${plan.file})`];
  if (plan.environment) lines.push(`environment: ${plan.environment}`);
  lines.push(
    `limit: ${clock(plan.maxDurationMs)}; hypothesis strategy: ${plan.strategies.hypothesis}${plan.strategies.failFast ? ' (fail-fast)' : ''}; rollbacks: ${plan.strategies.rollbacks}`,
  );
  if (drivers.size > 0) {
    lines.push('targets:');
    for (const driver of drivers.values()) lines.push(`  ${driver.target}: ${driver.description}`);
  }
  lines.push(plan.hypothesis.length === 0 ? 'steady state: (none)' : 'steady state:');
  for (const p of plan.hypothesis) lines.push(`  - ${p.name}: ${p.describe}`);
  lines.push(...describeLoad(plan));
  lines.push('method:');
  plan.method.forEach((step, i) => {
    const n = `  ${i + 1}.`;
    if (step.kind === 'fault') {
      lines.push(`${n} fault ${step.name}: ${step.describe}`);
      if (step.shows)
        lines.push(`     shows: ${step.shows.name}: ${step.shows.describe} (while it is applied)`);
    } else if (step.kind === 'wait') lines.push(`${n} ${step.describe}`);
    else if (step.kind === 'remove-fault') lines.push(`${n} ${step.describe}`);
    else
      lines.push(
        `${n} ${step.activity} ${step.name}: ${step.describe}${step.background ? ' (background)' : ''}`,
      );
  });
  lines.push(...describeStopConditions(plan));
  if (plan.rollbacks.length > 0) {
    lines.push('rollbacks:');
    for (const r of plan.rollbacks) lines.push(`  - ${r.name}: ${r.describe}`);
  }
  lines.push(
    'every fault is removed at the end whatever happens, and carries a lease on its proxy',
  );
  for (const warning of plan.warnings ?? []) lines.push(`warning: ${warning}`);
  return lines;
}

/** The plan's stop conditions, load and signals, for the dry run and the head of a run. */
export function describeStopConditions(plan: RunPlan): string[] {
  const load = plan.load?.abortWhen ?? [];
  const signals = plan.stopWhen ?? [];
  if (load.length + signals.length === 0) return ['stop conditions: (none)'];
  const lines = [
    'stop conditions (during the method; the first breached removes every fault at once):',
  ];
  for (const t of load) lines.push(`  - load: ${t.source} (checked every 50 ms)`);
  for (const c of signals)
    lines.push(
      `  - ${c.name}: ${c.describe} (every ${clock(c.everyMs)}, timeout ${clock(c.timeoutMs)}; ${c.onError === 'stop' ? 'cannot be evaluated: stops the run' : 'cannot be evaluated: the run goes on without it'})`,
    );
  return lines;
}

/** The load and its thresholds, as a run will apply and judge them (stop conditions: below). */
export function describeLoad(plan: RunPlan): string[] {
  const load = plan.load;
  if (!load) return ['load: (none)'];
  return [
    `load: ${load.method} ${load.url} at ${load.rate} req/s (open model, up to ${load.connections} connections, timeout ${clock(load.timeoutMs)}); ${load.warmupMs > 0 ? `warm-up ${clock(load.warmupMs)}, then ` : ''}baseline ${clock(load.baselineMs)} before the method, recovery ${clock(load.recoveryMs)} after`,
    `  thresholds: ${load.thresholds.length === 0 ? '(none)' : load.thresholds.map((t) => t.source).join(', ')}`,
  ];
}

/** The numbers of one load phase in the journal (`faultline.load.phases.*`). */
function phaseNumbers(value: unknown): { p99: number; errorRate: number } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const s = value as { p99?: unknown; error_rate?: unknown; completed?: unknown };
  if (typeof s.p99 !== 'number' || typeof s.error_rate !== 'number') return undefined;
  return { p99: s.p99, errorRate: s.error_rate };
}

const seconds = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
const share = (v: number): string => `${(v * 100).toFixed(1)} %`;

/**
 * "under the fault: p99 1.27 s, errors 16.0 % (baseline p99 12 ms, errors 0.0 %)": the one line
 * a reader wants from a run with load, as the demo prints it. Undefined without load numbers.
 */
export function underTheFault(journal: Journal): string | undefined {
  const phases = journal.faultline.load?.phases;
  const method = phaseNumbers(phases?.method);
  if (!method) return undefined;
  const before = phaseNumbers(phases?.before);
  const baseline = before
    ? ` (baseline p99 ${seconds(before.p99)}, errors ${share(before.errorRate)})`
    : '';
  return `under the fault: p99 ${seconds(method.p99)}, errors ${share(method.errorRate)}${baseline}`;
}

/** The final summary. */
export function summarize(journal: Journal, journalPath: string): string[] {
  const f = journal.faultline;
  const lines = [
    '',
    `outcome: ${String(f.outcome)} (exit ${String(f.exit_code)}) — ${f.reason ?? ''}`,
  ];
  lines.push(
    `status: ${journal.status}; deviated: ${String(journal.deviated)}; duration: ${clock((journal.duration ?? 0) * 1000)}`,
  );
  const during = journal.steady_states.during;
  if (during.length > 0)
    lines.push(
      `steady state during: ${during.filter((s) => s.steady_state_met).length}/${during.length} checks met`,
    );
  const under = underTheFault(journal);
  if (under) lines.push(under);
  for (const fault of f.faults) {
    const touched = fault.touched
      ? `touched ${describeTouched(fault.touched, bytes)}`
      : 'what it touched is not counted';
    lines.push(`fault ${fault.name} on ${fault.target}: ${fault.state}; ${touched}`);
    if (fault.efficacy?.by === 'load-shift')
      lines.push(`  reached the system: shown by ${fault.efficacy.detail}`);
    else if (fault.efficacy?.by === 'stated-effect')
      lines.push(`  reached the system: ${fault.efficacy.detail}`);
    else if (fault.efficacy?.by === 'none')
      lines.push(`  NOT shown to reach the system: ${fault.efficacy.detail}`);
  }
  for (const check of f.after_rollbacks?.checks ?? [])
    if (check.residue) lines.push(`RESIDUE after the rollbacks: ${check.what}: ${check.detail}`);
  if (f.stop)
    lines.push(
      `stop: ${f.stop.condition} (${f.stop.value}) detected at ${f.stop.measurable_at}; every fault removed ${f.stop.reaction_ms ?? '?'} ms later${f.stop.faults_removed_at ? ` (${f.stop.faults_removed_at})` : ''}`,
    );
  for (const c of f.stop_conditions ?? [])
    lines.push(
      `stop condition ${c.name}: ${c.checks} check${c.checks === 1 ? '' : 's'}, ${c.errors} could not be evaluated; last: ${c.last_value ?? c.state}`,
    );
  for (const warning of f.warnings ?? []) lines.push(`warning: ${warning}`);
  if (f.load?.phases.shift) lines.push(`during the method: ${describeShift(f.load.phases.shift)}`);
  lines.push(`journal: ${journalPath}`);
  return lines;
}

/** One line of live numbers from a `load` event: what a progress line shows while a run lasts. */
export function liveLoadLine(event: Extract<RunEvent, { type: 'load' }>): string {
  const s = event.second;
  const ms = (v: number): string =>
    v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
  return `[${clock(event.elapsedMs).padStart(6)}] load: ${s.rps.toFixed(0)} req/s, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, errors ${(s.error_rate * 100).toFixed(1)} %`;
}
