/**
 * Prometheus metrics of an experiment run, fed by the runner's events.
 *
 * ```
 *   runner ─ RunEvent ─▶ RunMetrics.onEvent ─▶ prom-client Registry ─▶ GET /metrics (metrics-server.ts)
 *   journal (end) ─────▶ RunMetrics.finish  ─▶ outcome, recovery time, abort reaction
 * ```
 *
 * The names are the contract with dashboards (examples/grafana/faultline-dashboard.json is
 * checked against {@link RUN_METRIC_NAMES} by a test): rename one and the dashboard breaks.
 * Every series carries `experiment` (the title) and `service` (as the reports derive it), so
 * one Prometheus can scrape many runs. A private registry per run: never prom-client's global
 * one, so two runs in one process do not mix.
 */
import type { Registry } from 'prom-client';
import { promClient } from '../shared/prom-client.js';
import type { Journal } from '../journal/journal.js';
import type { RunPlan } from '../run-plan/plan.js';
import type { RunEvent } from './runner.js';
import type { ActivityRun } from '../journal/journal.js';
import { faultShare } from '../reporting/report-model.js';

/** Every metric a run exports (histograms add `_bucket`, `_sum` and `_count`). */
export const RUN_METRIC_NAMES = [
  'faultline_experiment_running',
  'faultline_experiment_phase',
  'faultline_experiment_outcome',
  'faultline_experiment_runs_total',
  'faultline_active_faults',
  'faultline_faults_applied_total',
  'faultline_blast_radius_ratio',
  'faultline_blast_radius_targets',
  'faultline_fault_touched_connections_total',
  'faultline_fault_touched_bytes_total',
  'faultline_recovery_seconds',
  'faultline_abort_reaction_seconds',
  'faultline_probe_results_total',
  'faultline_probe_met',
  'faultline_load_latency_seconds',
  'faultline_load_requests_per_second',
  'faultline_load_error_ratio',
] as const;

const PHASES = [
  'prepare',
  'before',
  'method',
  'after',
  'cleanup',
  'rollbacks',
  'verification',
  'done',
] as const;
const OUTCOMES = ['held', 'deviated', 'aborted', 'inconclusive', 'interrupted', 'residue'] as const;

export interface RunMetrics {
  readonly registry: Registry;
  /** Feed it every runner event (pass it as, or call it from, `onEvent`). */
  onEvent(event: RunEvent): void;
  /** The run ended: record its outcome, time to recovery and abort reaction. */
  finish(journal: Journal): void;
}

/**
 * Registers the run's metrics on its private registry (every one of {@link RUN_METRIC_NAMES},
 * in that order); apart from {@link createRunMetrics} so that it reads as how events feed them.
 */
// eslint-disable-next-line max-lines-per-function -- the metric definitions, one constructor each, in /metrics order
function defineMetrics(registry: Registry) {
  const { Counter, Gauge, Histogram } = promClient();
  const r = [registry];
  const L = ['experiment', 'service'] as const;

  const running = new Gauge({
    name: 'faultline_experiment_running',
    help: '1 while the experiment runs, 0 once it has ended.',
    labelNames: L,
    registers: r,
  });
  const phase = new Gauge({
    name: 'faultline_experiment_phase',
    help: '1 for the phase the experiment is in (prepare, before, method, after, cleanup, rollbacks, verification, done).',
    labelNames: [...L, 'phase'],
    registers: r,
  });
  const outcome = new Gauge({
    name: 'faultline_experiment_outcome',
    help: '1 for the outcome of the ended run (held, deviated, aborted, inconclusive, interrupted, residue).',
    labelNames: [...L, 'outcome'],
    registers: r,
  });
  const runs = new Counter({
    name: 'faultline_experiment_runs_total',
    help: 'Runs that ended, by outcome.',
    labelNames: [...L, 'outcome'],
    registers: r,
  });
  const active = new Gauge({
    name: 'faultline_active_faults',
    help: 'Faults in place now, per target.',
    labelNames: [...L, 'target'],
    registers: r,
  });
  const applied = new Counter({
    name: 'faultline_faults_applied_total',
    help: 'Faults applied, per target.',
    labelNames: [...L, 'target'],
    registers: r,
  });
  const radius = new Gauge({
    name: 'faultline_blast_radius_ratio',
    help: "Share of the target's connections (HTTP faults: requests) a fault in place acts on, 0-1; 0 once removed.",
    labelNames: [...L, 'fault', 'target'],
    registers: r,
  });
  const radiusTargets = new Gauge({
    name: 'faultline_blast_radius_targets',
    help: 'Targets with at least one fault in place now.',
    labelNames: L,
    registers: r,
  });
  const touchedConnections = new Counter({
    name: 'faultline_fault_touched_connections_total',
    help: 'Connections a fault acted on, counted when it is removed.',
    labelNames: [...L, 'fault', 'target'],
    registers: r,
  });
  const touchedBytes = new Counter({
    name: 'faultline_fault_touched_bytes_total',
    help: 'Bytes a fault delayed, throttled, dropped or cut, counted when it is removed.',
    labelNames: [...L, 'fault', 'target'],
    registers: r,
  });
  const recovery = new Histogram({
    name: 'faultline_recovery_seconds',
    help: 'Time to recovery after the method: until the thresholds held and latency and errors were back near the baseline.',
    labelNames: L,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: r,
  });
  const reaction = new Histogram({
    name: 'faultline_abort_reaction_seconds',
    help: "From a stop condition's breach being measurable to the last fault removed.",
    labelNames: L,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: r,
  });
  const probeResults = new Counter({
    name: 'faultline_probe_results_total',
    help: 'Hypothesis checks (probes and load thresholds) by phase and result (met, not_met, error).',
    labelNames: [...L, 'probe', 'phase', 'result'],
    registers: r,
  });
  const probeMet = new Gauge({
    name: 'faultline_probe_met',
    help: '1 when the last check of a probe or threshold was met, 0 when not.',
    labelNames: [...L, 'probe', 'phase'],
    registers: r,
  });
  const latency = new Gauge({
    name: 'faultline_load_latency_seconds',
    help: "Latency of the run's load over the last second, by quantile (0.5, 0.99).",
    labelNames: [...L, 'quantile'],
    registers: r,
  });
  const rps = new Gauge({
    name: 'faultline_load_requests_per_second',
    help: "Requests of the run's load completed over the last second.",
    labelNames: L,
    registers: r,
  });
  const errorRatio = new Gauge({
    name: 'faultline_load_error_ratio',
    help: "Errors and 5xx over completed requests of the run's load, over the last second.",
    labelNames: L,
    registers: r,
  });
  return {
    running,
    phase,
    outcome,
    runs,
    active,
    applied,
    radius,
    radiusTargets,
    touchedConnections,
    touchedBytes,
    recovery,
    reaction,
    probeResults,
    probeMet,
    latency,
    rps,
    errorRatio,
  };
}

/** The labels every series carries: `experiment` (the title) and `service` (as the reports derive it). */
function baseLabels(plan: Pick<RunPlan, 'title' | 'tags'>): {
  experiment: string;
  service: string;
} {
  const explicit = plan.tags.find((t) => t.startsWith('service:'));
  return {
    experiment: plan.title,
    service: explicit ? explicit.slice('service:'.length) : (plan.tags[0] ?? plan.title),
  };
}

/**
 * Creates the metrics of one run of `plan`. Its length is `onEvent`'s switch, one case per
 * {@link RunEvent} variant (checked exhaustive by `satisfies never`), kept whole on purpose.
 */
// eslint-disable-next-line max-lines-per-function -- the onEvent switch, one case per run event
export function createRunMetrics(plan: Pick<RunPlan, 'title' | 'tags' | 'method'>): RunMetrics {
  const { Registry } = promClient();
  const registry = new Registry();
  const base = baseLabels(plan);
  const {
    running,
    phase,
    outcome,
    runs,
    active,
    applied,
    radius,
    radiusTargets,
    touchedConnections,
    touchedBytes,
    recovery,
    reaction,
    probeResults,
    probeMet,
    latency,
    rps,
    errorRatio,
  } = defineMetrics(registry);

  running.set(base, 1);
  for (const p of PHASES) phase.set({ ...base, phase: p }, 0);

  const shares = new Map<string, number>();
  for (const step of plan.method)
    if (step.kind === 'fault') shares.set(step.name, faultShare(step.source));
  const activeTargets = new Map<string, number>();
  const setActive = (target: string, delta: number): void => {
    const n = Math.max(0, (activeTargets.get(target) ?? 0) + delta);
    activeTargets.set(target, n);
    active.set({ ...base, target }, n);
    radiusTargets.set(base, [...activeTargets.values()].filter((v) => v > 0).length);
  };
  const probe = (run: ActivityRun, where: string): void => {
    if (run.tolerance_met === undefined && run.status !== 'failed') return;
    const result = run.status === 'failed' ? 'error' : run.tolerance_met ? 'met' : 'not_met';
    probeResults.inc({ ...base, probe: run.name, phase: where, result });
    probeMet.set({ ...base, probe: run.name, phase: where }, run.tolerance_met ? 1 : 0);
  };

  return {
    registry,
    onEvent(event) {
      switch (event.type) {
        case 'phase':
          for (const p of PHASES) phase.set({ ...base, phase: p }, p === event.phase ? 1 : 0);
          return;
        case 'hypothesis':
          for (const run of event.state.probes) probe(run, event.phase);
          return;
        case 'activity-end':
          if (event.phase === 'method') probe(event.run, 'method');
          return;
        case 'fault-applied':
          applied.inc({ ...base, target: event.fault.target });
          radius.set(
            { ...base, fault: event.fault.name, target: event.fault.target },
            shares.get(event.fault.name) ?? 1,
          );
          setActive(event.fault.target, 1);
          return;
        case 'fault-removed': {
          const labels = { ...base, fault: event.fault.name, target: event.fault.target };
          // A fault that could not be removed (residue) stays counted as in place.
          if (event.fault.state === 'removed') {
            radius.set(labels, 0);
            setActive(event.fault.target, -1);
          }
          if (event.fault.touched) {
            touchedConnections.inc(labels, event.fault.touched.connections);
            touchedBytes.inc(labels, event.fault.touched.bytes);
          }
          return;
        }
        case 'load':
          latency.set({ ...base, quantile: '0.5' }, event.second.p50 / 1000);
          latency.set({ ...base, quantile: '0.99' }, event.second.p99 / 1000);
          rps.set(base, event.second.rps);
          errorRatio.set(base, event.second.error_rate);
          return;
        case 'activity-start':
        case 'wait':
        case 'pause':
        case 'warning':
        case 'service':
        case 'stop-condition':
          return;
        default:
          event satisfies never;
      }
    },
    finish(journal) {
      running.set(base, 0);
      const result = journal.faultline.outcome;
      if (result) {
        for (const o of OUTCOMES) outcome.set({ ...base, outcome: o }, o === result ? 1 : 0);
        runs.inc({ ...base, outcome: result });
      }
      const recovered = (
        journal.faultline.load?.phases.after as { recovered_after_ms?: number | null } | undefined
      )?.recovered_after_ms;
      if (typeof recovered === 'number') recovery.observe(base, recovered / 1000);
      const ms = journal.faultline.stop?.reaction_ms;
      if (typeof ms === 'number') reaction.observe(base, ms / 1000);
    },
  };
}
