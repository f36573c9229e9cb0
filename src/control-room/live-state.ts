/**
 * What the control room shows, kept from the runner's events: a second-by-second series of the
 * load (latency percentiles, throughput, error rate), fault windows, the phase, the time left,
 * the active faults, the thresholds to draw. The page receives one snapshot when it connects
 * and then each update as a server-sent event, so a page opened late still draws the whole run.
 *
 * Times are seconds since the run started (the runner's `elapsedMs`); events that carry no
 * time of their own (a fault applied) are placed by the monotonic clock against the first
 * event's, so everything lands on one axis.
 */
import { performance } from 'node:perf_hooks';
import type { FaultLocation } from '../backends/location.js';
import type { Journal } from '../journal/journal.js';
import { describeTouched } from '../journal/touched.js';
import type { RunPlan } from '../run-plan/plan.js';
import type { RunEvent } from '../runner/runner.js';

export interface LivePoint {
  t: number;
  p50: number;
  p90: number;
  p99: number;
  rps: number;
  /** Percent. */
  errorRate: number;
}

export interface LiveFault {
  name: string;
  target: string;
  describe: string;
  /** What the fault acts on: the proxy, server, process or object that carries it. */
  where: string;
  from: number;
  to: number | null;
  state: string;
  expiresAt: string | undefined;
  /** Known once removed (connections, bytes, requests). */
  touched: unknown;
  /** The same in words, as the reports say it (`12 connection(s), 3.1 KiB, 40 request(s)`). */
  touchedText: string | null;
}

export interface LiveThreshold {
  /** Which chart: latency (ms), throughput (req/s) or errors (%). */
  chart: 'latency' | 'throughput' | 'errors';
  value: number;
  label: string;
  kind: 'threshold' | 'stop';
}

/** A stop condition as the control room lists it: the load's, and the signals' with their last check. */
export interface LiveStopCondition {
  name: string;
  /** load, prometheus, http, alertmanager, command. */
  kind: string;
  describe: string;
  /** Signals: not checked, ok, breaching, breached, unknown; the load's: watched. */
  state: string;
  value: string | null;
  checks: number;
  errors: number;
  /** Seconds since the run started, of the last check. */
  checkedAt: number | null;
}

export interface LiveSnapshot {
  title: string;
  file: string;
  maxDurationMs: number;
  phase: string;
  elapsedMs: number;
  points: LivePoint[];
  faults: LiveFault[];
  thresholds: LiveThreshold[];
  /** Every stop condition of the run (load thresholds and signals), with live states. */
  stopConditions: LiveStopCondition[];
  log: { t: number; text: string }[];
  /** Set when the run is over. */
  outcome: {
    outcome: string;
    status: string;
    exitCode: number | undefined;
    reason: string | undefined;
  } | null;
  halted: boolean;
}

/** An update the page applies to its snapshot. */
export type LiveUpdate =
  | { type: 'point'; point: LivePoint }
  | { type: 'phase'; phase: string; elapsedMs: number }
  | { type: 'faults'; faults: LiveFault[] }
  | { type: 'stop-condition'; condition: LiveStopCondition }
  | { type: 'log'; entry: { t: number; text: string } }
  | { type: 'halted' }
  | { type: 'outcome'; outcome: NonNullable<LiveSnapshot['outcome']> };

export class LiveState {
  readonly snapshot: LiveSnapshot;
  private origin: number | undefined;
  private readonly listeners = new Set<(update: LiveUpdate) => void>();

  constructor(plan: RunPlan) {
    this.snapshot = {
      title: plan.title,
      file: plan.file,
      maxDurationMs: plan.maxDurationMs,
      phase: 'starting',
      elapsedMs: 0,
      points: [],
      faults: [],
      thresholds: thresholdsOf(plan),
      stopConditions: stopConditionsOf(plan),
      log: [],
      outcome: null,
      halted: false,
    };
  }

  subscribe(listener: (update: LiveUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(update: LiveUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  /** Seconds since the run started, by the monotonic clock. */
  private now(): number {
    return this.origin === undefined ? 0 : (performance.now() - this.origin) / 1000;
  }

  private note(text: string, t = this.now()): void {
    const entry = { t: Math.round(t * 10) / 10, text };
    this.snapshot.log.push(entry);
    if (this.snapshot.log.length > 500) this.snapshot.log.shift();
    this.publish({ type: 'log', entry });
  }

  /** Feed it every runner event. */
  onEvent(event: RunEvent): void {
    if (this.origin === undefined)
      this.origin = performance.now() - ('elapsedMs' in event ? event.elapsedMs : 0);
    switch (event.type) {
      case 'phase':
        this.snapshot.phase = event.phase;
        this.snapshot.elapsedMs = event.elapsedMs;
        this.publish({ type: 'phase', phase: event.phase, elapsedMs: event.elapsedMs });
        this.note(`phase: ${event.phase}`, event.elapsedMs / 1000);
        return;
      case 'load': {
        const s = event.second;
        const point: LivePoint = {
          t: Math.round(event.elapsedMs / 100) / 10,
          p50: s.p50,
          p90: s.p90,
          p99: s.p99,
          rps: Math.round(s.rps * 10) / 10,
          errorRate: Math.round(s.error_rate * 10000) / 100,
        };
        this.snapshot.points.push(point);
        this.snapshot.elapsedMs = event.elapsedMs;
        this.publish({ type: 'point', point });
        return;
      }
      case 'fault-applied': {
        const f = event.fault;
        const live: LiveFault = {
          name: f.name,
          target: f.target,
          describe: f.describe,
          where: describeLocation(f.location),
          from: this.now(),
          to: null,
          state: f.state,
          expiresAt: f.expires_at,
          touched: null,
          touchedText: null,
        };
        this.snapshot.faults = [
          ...this.snapshot.faults.filter((x) => !(x.name === f.name && x.to === null)),
          live,
        ];
        this.publish({ type: 'faults', faults: this.snapshot.faults });
        this.note(`fault applied: ${f.name} on ${f.target} (${f.describe})`);
        return;
      }
      case 'fault-removed': {
        const f = event.fault;
        const live = this.snapshot.faults.find((x) => x.name === f.name && x.to === null);
        if (live) {
          live.to = this.now();
          live.state = f.state;
          live.touched = f.touched ?? null;
          live.touchedText = f.touched ? describeTouched(f.touched, kib) : null;
        }
        this.publish({ type: 'faults', faults: this.snapshot.faults });
        this.note(`fault removed: ${f.name} (${f.state})`);
        return;
      }
      case 'hypothesis':
        this.note(
          `steady state ${event.phase}: ${event.state.steady_state_met ? 'met' : 'NOT met'}`,
        );
        return;
      case 'warning':
        this.note(`warning: ${event.message}`);
        return;
      case 'service':
        this.note(event.message);
        return;
      case 'stop-condition': {
        const r = event.record;
        const live = this.snapshot.stopConditions.find(
          (c) => c.name === r.name && c.kind !== 'load',
        );
        if (!live) return;
        const changed = live.state !== r.state;
        live.state = r.state;
        live.value = r.last_value ?? null;
        live.checks = r.checks;
        live.errors = r.errors;
        live.checkedAt = Math.round(this.now() * 10) / 10;
        this.publish({ type: 'stop-condition', condition: live });
        if (changed && r.state !== 'ok' && r.state !== 'unknown')
          this.note(
            `stop condition ${r.name}: ${r.state}${r.last_value ? ` (${r.last_value})` : ''}`,
          );
        return;
      }
      case 'activity-end':
        if (event.phase === 'method' || event.phase === 'rollbacks')
          this.note(
            `${event.run.name}: ${event.run.status}${event.run.tolerance_met === false ? ' (not met)' : ''}`,
          );
        return;
      default:
        return;
    }
  }

  /** Free text for the log (a game day's stage changes, a scribe's observations). */
  log(text: string): void {
    this.note(text);
  }

  halted(): void {
    this.snapshot.halted = true;
    this.publish({ type: 'halted' });
    this.note('HALT pressed: removing every fault');
  }

  finish(journal: Journal): void {
    const outcome = {
      outcome: journal.faultline.outcome ?? 'unfinished',
      status: journal.status,
      exitCode: journal.faultline.exit_code,
      reason: journal.faultline.reason,
    };
    this.snapshot.outcome = outcome;
    this.publish({ type: 'outcome', outcome });
  }
}

function describeLocation(location: FaultLocation): string {
  switch (location.backend) {
    case 'proxy':
      return `in-process proxy ${location.proxy}, ${location.kind}${location.toxic ? ` ${location.toxic}` : ''}`;
    case 'remote-proxy':
      return `remote proxy ${location.proxy} on ${location.server}, ${location.kind}${location.toxic ? ` ${location.toxic}` : ''}`;
    case 'kubernetes':
      return `${location.resource.kind} ${location.resource.namespace}/${location.resource.name}`;
    default:
      return `${location.backend} ${location.fault}, tag ${location.tag}`;
  }
}

/** Bytes as the HTML report shows them. */
function kib(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function thresholdsOf(plan: RunPlan): LiveThreshold[] {
  const out: LiveThreshold[] = [];
  const load = plan.load;
  if (!load) return out;
  const add = (list: typeof load.thresholds, kind: LiveThreshold['kind']): void => {
    for (const t of list) {
      if (t.metric === 'rps')
        out.push({ chart: 'throughput', value: t.value, label: t.source, kind });
      else if (t.metric === 'error_rate')
        out.push({ chart: 'errors', value: t.value * 100, label: t.source, kind });
      else out.push({ chart: 'latency', value: t.value, label: t.source, kind });
    }
  };
  add(load.thresholds, 'threshold');
  add(load.abortWhen, 'stop');
  return out;
}

function stopConditionsOf(plan: RunPlan): LiveStopCondition[] {
  const blank = { value: null, checks: 0, errors: 0, checkedAt: null };
  return [
    ...(plan.load?.abortWhen ?? []).map((t) => ({
      ...blank,
      name: t.source,
      kind: 'load',
      describe: `${t.source} on the load (checked every 50 ms)`,
      state: 'watched',
    })),
    ...(plan.stopWhen ?? []).map((c) => ({
      ...blank,
      name: c.name,
      kind: c.kind,
      describe: `${c.describe} (every ${c.everyMs} ms; cannot be evaluated: ${c.onError === 'stop' ? 'stops the run' : 'goes on'})`,
      state: 'not checked',
    })),
  ];
}
