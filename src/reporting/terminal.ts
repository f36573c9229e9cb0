/**
 * What the terminal shows during `faultline run`: one line per thing that happens, each
 * stamped with the elapsed time and, for waits, what is left of the run's maximum duration;
 * then a summary. During-method hypothesis checks print only when their verdict changes, so
 * a long run stays readable.
 */
import { describeShift } from '../load/latency-shift.js';
import type { Journal } from '../runner/journal.js';
import type { RunEvent } from '../runner/runner.js';
import type { RunPlan } from '../runner/plan.js';
import { describeTouched, type FaultDriver } from '../targets/fault-driver.js';

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
  const stamp = (): string => `[${clock(Date.now() - start).padStart(6)}]`;
  return (event) => {
    switch (event.type) {
      case 'phase': {
        if (event.phase === 'done') return;
        const left = plan.maxDurationMs - event.elapsedMs;
        const limit = ['before', 'method', 'after'].includes(event.phase) ? ` — ${clock(Math.max(0, left))} left of the ${clock(plan.maxDurationMs)} limit` : '';
        print(`${stamp()} ${PHASE_TITLES[event.phase] ?? event.phase}${limit}`);
        return;
      }
      case 'activity-start':
        return;
      case 'activity-end': {
        const r = event.run;
        const mark = r.status === 'failed' || r.tolerance_met === false ? '✗' : r.status === 'interrupted' ? '…' : '✔';
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
          const failing = event.state.probes.filter((p) => p.tolerance_met !== true).map((p) => `${p.name}${p.reason ? `: ${p.reason}` : ''}`);
          print(`${stamp()}   steady state during (check ${duringCount}): ${duringMet ? 'met' : `NOT met — ${failing.join('; ')}`}`);
        }
        return;
      case 'fault-applied':
        print(`${stamp()}   ⚡ ${event.fault.name}: ${event.fault.describe} (lease until ${event.fault.expires_at?.slice(11, 19)} UTC)`);
        return;
      case 'fault-removed': {
        const f = event.fault;
        const t = f.touched ? ` — touched ${f.touched.connections} connection(s), ${bytes(f.touched.bytes)}${f.touched.requests ? `, ${f.touched.requests} request(s)` : ''}` : '';
        print(`${stamp()}   ${f.state === 'removed' ? '↺' : '!!'} ${f.name} ${f.state === 'removed' ? 'removed' : `NOT removed: ${f.error ?? ''}`}${t}`);
        return;
      }
      case 'wait': {
        const left = plan.maxDurationMs - (Date.now() - start);
        print(`${stamp()}   … waiting ${clock(event.ms)} (${clock(Math.max(0, left))} left of the ${clock(plan.maxDurationMs)} limit)`);
        return;
      }
      case 'warning':
        print(`${stamp()}   warning: ${event.message}`);
        return;
      case 'load':
        return; // live numbers are for live lines (see liveLoadLine), not for the log
    }
  };
}

/** The plan, for `--dry-run` and the head of a run. */
export function describePlan(plan: RunPlan, drivers: ReadonlyMap<string, FaultDriver>): string[] {
  const lines = [`${plan.title}  (${plan.format} format, ${plan.file})`];
  if (plan.environment) lines.push(`environment: ${plan.environment}`);
  lines.push(`limit: ${clock(plan.maxDurationMs)}; hypothesis strategy: ${plan.strategies.hypothesis}${plan.strategies.failFast ? ' (fail-fast)' : ''}; rollbacks: ${plan.strategies.rollbacks}`);
  if (drivers.size > 0) {
    lines.push('targets:');
    for (const driver of drivers.values()) lines.push(`  ${driver.target}: ${driver.description}`);
  }
  lines.push(plan.hypothesis.length === 0 ? 'steady state: (none)' : 'steady state:');
  for (const p of plan.hypothesis) lines.push(`  - ${p.name}: ${p.describe}`);
  lines.push('method:');
  plan.method.forEach((step, i) => {
    const n = `  ${i + 1}.`;
    if (step.kind === 'fault') lines.push(`${n} fault ${step.name}: ${step.describe}`);
    else if (step.kind === 'wait') lines.push(`${n} ${step.describe}`);
    else if (step.kind === 'remove-fault') lines.push(`${n} ${step.describe}`);
    else lines.push(`${n} ${step.activity} ${step.name}: ${step.describe}${step.background ? ' (background)' : ''}`);
  });
  if (plan.rollbacks.length > 0) {
    lines.push('rollbacks:');
    for (const r of plan.rollbacks) lines.push(`  - ${r.name}: ${r.describe}`);
  }
  lines.push('every fault is removed at the end whatever happens, and carries a lease on its proxy');
  for (const warning of plan.warnings ?? []) lines.push(`warning: ${warning}`);
  return lines;
}

/** The final summary. */
export function summarize(journal: Journal, journalPath: string): string[] {
  const f = journal.faultline;
  const lines = ['', `outcome: ${f.outcome} (exit ${f.exit_code}) — ${f.reason ?? ''}`];
  lines.push(`status: ${journal.status}; deviated: ${journal.deviated}; duration: ${clock((journal.duration ?? 0) * 1000)}`);
  const during = journal.steady_states.during;
  if (during.length > 0) lines.push(`steady state during: ${during.filter((s) => s.steady_state_met).length}/${during.length} checks met`);
  for (const fault of f.faults) {
    const touched = fault.touched ? `touched ${describeTouched(fault.touched, bytes)}` : 'what it touched is not counted';
    lines.push(`fault ${fault.name}: ${fault.state}; ${touched}`);
  }
  if (f.load?.phases.shift) lines.push(`during the method: ${describeShift(f.load.phases.shift)}`);
  lines.push(`journal: ${journalPath}`);
  return lines;
}

/** One line of live numbers from a `load` event: what a progress line shows while a run lasts. */
export function liveLoadLine(event: Extract<RunEvent, { type: 'load' }>): string {
  const s = event.second;
  const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
  return `[${clock(event.elapsedMs).padStart(6)}] load: ${s.rps.toFixed(0)} req/s, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, errors ${(s.error_rate * 100).toFixed(1)} %`;
}
