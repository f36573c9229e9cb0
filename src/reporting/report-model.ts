/**
 * The report model: one journal turned into what every report shows — the verdict and why,
 * each hypothesis with its measured value against its expectation, every fault with what it
 * touched, recovery, the load's per-second series placed on one time axis with the fault
 * windows and the abort/rollback instants, and the run's environment.
 *
 * ```
 *   journal (disk) ─▶ readJournal (journal-input.ts) ─▶ buildReportModel ─▶ html.ts / junit.ts / markdown.ts
 * ```
 *
 * Renderers only format this model, so the HTML page, the JUnit file and the Markdown summary
 * can never disagree about a verdict. Times on the chart axis are seconds since the load
 * started; the journal's series is indexed that way, and instants (ISO strings) are placed on
 * it from the load's origin (see {@link loadOrigin}).
 */
import { touchedNothing, type Touched } from '../journal/touched.js';
import { describeShift } from '../load/latency-shift.js';
import { parseThreshold } from '../experiment/threshold.js';
import type { Journal, Outcome } from '../journal/journal.js';
import { hypothesisRows, isThreshold, type HypothesisRow } from './hypotheses.js';
import { serviceOf, titleOf, type ExperimentDoc } from './journal-input.js';
import { resilienceOfJournal, type RunScore } from './score.js';

export type { CheckPhase, HypothesisRow } from './hypotheses.js';

export interface FaultRow {
  name: string;
  target: string;
  describe: string;
  state: string;
  appliedAt: string | undefined;
  removedAt: string | undefined;
  /** Seconds the fault was in place. */
  activeSeconds: number | undefined;
  touched: Touched | undefined;
  /** Verified gone from its target after the run (null: could not be checked). */
  gone: boolean | null | undefined;
  /** Share of connections (or requests) the fault acts on, 0–1. */
  share: number;
  error: string | undefined;
  /** How the run established the fault reached the system (journals before 0.2 have none). */
  efficacy: { by: 'counted' | 'load-shift' | 'stated-effect' | 'none'; detail: string } | undefined;
}

/** A stretch of the chart axis (seconds since the load started). */
export interface TimeWindow {
  label: string;
  from: number;
  to: number;
}

/** An instant on the chart axis. */
export interface TimeMarker {
  label: string;
  kind: 'abort' | 'rollback' | 'recovered' | 'interrupted';
  at: number;
}

export interface PhaseLoad {
  phase: 'before' | 'method' | 'after';
  p50: number;
  p99: number;
  rps: number;
  errorRate: number;
  completed: number;
}

/**
 * A load threshold or stop condition drawn on a chart as a horizontal line, in the chart's unit
 * (latency ms, throughput req/s, errors %), as the control room draws them.
 */
export interface ChartThreshold {
  chart: 'latency' | 'throughput' | 'errors';
  value: number;
  /** As written: `p99 < 400ms`, `error_rate > 20% over 500ms`. */
  label: string;
  kind: 'threshold' | 'stop';
}

export interface ReportSeries {
  /** Middle of each second, in seconds since the load started. */
  t: number[];
  p50: number[];
  p99: number[];
  rps: number[];
  /** Percent. */
  errorRate: number[];
}

export interface ReportModel {
  title: string;
  description: string | undefined;
  service: string;
  tags: string[];
  environment: string | undefined;
  file: string;
  format: string;
  runId: string;
  start: string;
  end: string | undefined;
  durationSeconds: number | undefined;
  verdict: {
    outcome: Outcome | 'unfinished';
    exitCode: number | undefined;
    status: string;
    /** The journal's own sentence. */
    reason: string;
    /** Short title of the outcome ("a hypothesis deviated"). */
    headline: string;
    /** The evidence: failing checks with measured values, the stop condition, idle faults. */
    why: string[];
  };
  score: RunScore;
  hypotheses: HypothesisRow[];
  faults: FaultRow[];
  rollbacks: { name: string; status: string; reason: string | undefined; at: string }[];
  stop:
    | { condition: string; value: string; measurableAt: string; reactionMs: number | undefined }
    | undefined;
  /**
   * The experiment's stop conditions, breached or not: the load's as written
   * (`safety.abortWhen`), then the signals' by name (`safety.stopWhen`).
   */
  stopConditions: string[];
  recovery:
    | {
        recoveredAfterMs: number | null | undefined;
        baseline: PhaseLoad | undefined;
        after: PhaseLoad | undefined;
      }
    | undefined;
  load:
    | {
        url: string;
        rate: number;
        phases: PhaseLoad[];
        series: ReportSeries;
        windows: TimeWindow[];
        markers: TimeMarker[];
        /** The thresholds and stop conditions on the load, one line each on its chart. */
        thresholds: ChartThreshold[];
        trustworthy: boolean | undefined;
        problems: string[];
        /** The method's latency against the baseline's (Mann–Whitney U, Hodges–Lehmann), in a sentence. */
        shift: string | undefined;
      }
    | undefined;
  run: {
    faultlineVersion: string;
    node: string;
    /** The host the run was made from (journals that record it). */
    host?: string | undefined;
    platform: string;
    pid: number;
    strategies: Record<string, unknown>;
    maxDurationSeconds: number;
  };
}

const OUTCOME_HEADLINES: Record<Outcome | 'unfinished', string> = {
  held: 'every hypothesis held',
  deviated: 'a hypothesis deviated',
  aborted: 'aborted by a stop condition',
  inconclusive: 'inconclusive: the hypothesis was not tested',
  interrupted: 'interrupted (after rollback)',
  residue: 'a fault could not be removed',
  unfinished: 'unfinished: the run is still going or died without concluding',
};

const ms = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

/**
 * When the load started, as an epoch in milliseconds. The series is indexed from it. The
 * journal records it (`faultline.load.started_at`); journals written before that fall back to
 * the first `before` threshold's start (the baseline window begins when the load does, so it is
 * that instant to within a millisecond), and without one to the run's start (the load starts
 * right after the targets are prepared).
 */
export function loadOrigin(journal: Journal): number {
  const recorded = ms(journal.faultline.load?.started_at);
  if (recorded !== undefined) return recorded;
  const first = journal.steady_states.before?.probes.find((p) => isThreshold(p));
  return ms(first?.start) ?? ms(journal.start) ?? 0;
}

function phaseLoad(phase: PhaseLoad['phase'], value: unknown): PhaseLoad | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const s = value as Record<string, unknown>;
  const num = (k: string): number => (typeof s[k] === 'number' ? s[k] : 0);
  return {
    phase,
    p50: num('p50'),
    p99: num('p99'),
    rps: num('rps'),
    errorRate: num('error_rate'),
    completed: num('completed'),
  };
}

/** Share of traffic a fault acts on, from its `percentage` (faultline) or `toxicity` (Chaos Toolkit). */
export function faultShare(source: unknown): number {
  const s = (source ?? {}) as Record<string, unknown>;
  const pct = s['percentage'];
  if (typeof pct === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(pct.trim());
    if (m) return Math.min(1, Number(m[1]) / 100);
  }
  if (typeof pct === 'number') return Math.min(1, pct / 100);
  const args = (s['provider'] as { arguments?: Record<string, unknown> } | undefined)?.arguments;
  if (typeof args?.['toxicity'] === 'number') return Math.min(1, args['toxicity']);
  return 1;
}

function verdictWhy(journal: Journal, rows: HypothesisRow[], faults: FaultRow[]): string[] {
  const f = journal.faultline;
  const why: string[] = [];
  const stop = f.stop;
  if (stop) {
    why.push(
      `stop condition "${stop.condition}" breached at ${stop.value}${stop.reaction_ms !== undefined ? `; every fault was removed ${stop.reaction_ms} ms after the breach was ${stop.detected_at ? 'detected' : 'measurable'}` : ''}`,
    );
  }
  for (const row of rows.filter((r) => !r.met)) {
    const when =
      row.phase === 'during'
        ? `during the method (${row.failed} of ${row.checks} checks)`
        : row.phase === 'method'
          ? 'in the method'
          : `${row.phase} the method`;
    why.push(
      `${row.name} ${when}: measured ${row.measured}, expected ${row.expected}${row.reason && !row.reason.includes(row.measured) ? ` — ${row.reason}` : ''}`,
    );
  }
  for (const fault of faults) {
    if (fault.efficacy?.by === 'none')
      why.push(
        `fault ${fault.name} on ${fault.target} was not shown to reach the system: ${fault.efficacy.detail}`,
      );
    else if (!fault.efficacy && touchedNothing(fault.touched))
      why.push(`fault ${fault.name} on ${fault.target} touched no traffic`);
    if (fault.state === 'residue')
      why.push(
        `fault ${fault.name} on ${fault.target} could not be removed${fault.error ? `: ${fault.error}` : ''}`,
      );
    if (fault.state === 'failed')
      why.push(`fault ${fault.name} could not be applied${fault.error ? `: ${fault.error}` : ''}`);
  }
  for (const check of f.after_rollbacks?.checks ?? [])
    if (check.residue) why.push(`residue after the rollbacks: ${check.what}: ${check.detail}`);
  for (const warning of f.warnings ?? []) why.push(`warning: ${warning}`);
  for (const r of journal.rollbacks.filter((r) => r.status === 'failed'))
    why.push(`rollback ${r.name} failed: ${r.reason ?? r.exception?.[0] ?? 'error'}`);
  if (why.length === 0 && f.outcome === 'held') {
    const checks = rows.reduce((n, r) => n + r.checks, 0);
    const touched = faults.reduce((n, x) => n + (x.touched?.connections ?? 0), 0);
    why.push(
      `${rows.length} hypotheses held over ${checks} checks; the faults touched ${touched} connection(s)`,
    );
  }
  return why;
}

/** Turns a journal into the report model. Pure: no I/O. */
export function buildReportModel(journal: Journal): ReportModel {
  const f = journal.faultline;
  const doc = (journal.experiment ?? {}) as ExperimentDoc;
  const rows = hypothesisRows(journal);
  const verificationOf = new Map((f.verification ?? []).map((v) => [v.fault, v.gone]));
  const sourceOf = new Map(journal.run.map((r) => [r.name, r.activity]));
  const faults: FaultRow[] = f.faults.map((x) => {
    const applied = ms(x.applied_at);
    const removed = ms(x.removed_at);
    return {
      name: x.name,
      target: x.target,
      describe: x.describe,
      state: x.state,
      appliedAt: x.applied_at,
      removedAt: x.removed_at,
      activeSeconds:
        applied !== undefined && removed !== undefined ? (removed - applied) / 1000 : undefined,
      touched: x.touched,
      gone: verificationOf.get(x.name),
      share: faultShare(sourceOf.get(x.name)),
      error: x.error,
      efficacy: x.efficacy,
    };
  });
  const outcome = f.outcome ?? 'unfinished';
  const load = f.load;
  const phases = load
    ? ([
        phaseLoad('before', load.phases.before),
        phaseLoad('method', load.phases.method),
        phaseLoad('after', load.phases.after),
      ].filter(Boolean) as PhaseLoad[])
    : [];
  const recoveredAfter = load
    ? (load.phases.after as { recovered_after_ms?: number | null } | undefined)?.recovered_after_ms
    : undefined;

  return {
    title: titleOf(journal),
    description: typeof doc.description === 'string' ? doc.description : undefined,
    service: serviceOf(journal),
    tags: Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [],
    environment: typeof doc.environment === 'string' ? doc.environment : undefined,
    file: f.file,
    format: f.format,
    runId: f.run_id,
    start: journal.start,
    end: journal.end,
    durationSeconds: journal.duration,
    verdict: {
      outcome,
      exitCode: f.exit_code,
      status: journal.status,
      reason: f.reason ?? OUTCOME_HEADLINES[outcome],
      headline: OUTCOME_HEADLINES[outcome],
      why: verdictWhy(journal, rows, faults),
    },
    score: resilienceOfJournal(journal),
    hypotheses: rows,
    faults,
    rollbacks: journal.rollbacks.map((r) => ({
      name: r.name,
      status: r.status,
      reason: r.reason ?? r.exception?.[0],
      at: r.start,
    })),
    stopConditions: stopConditionsOf(journal),
    stop: f.stop
      ? {
          condition: f.stop.condition,
          value: f.stop.value,
          measurableAt: f.stop.measurable_at,
          reactionMs: f.stop.reaction_ms,
        }
      : undefined,
    recovery: load
      ? {
          recoveredAfterMs: recoveredAfter,
          baseline: phases.find((p) => p.phase === 'before'),
          after: phases.find((p) => p.phase === 'after'),
        }
      : undefined,
    load: load
      ? {
          url: load.url,
          rate: load.rate,
          phases,
          ...timeline(journal, faults),
          thresholds: chartThresholds(journal),
          ...health(load.health),
          shift: load.phases.shift ? describeShift(load.phases.shift) : undefined,
        }
      : undefined,
    run: {
      faultlineVersion: journal['faultline-version'],
      node: journal.faultline.node_version ?? journal.node,
      host: journal.faultline.node_version ? journal.node : undefined,
      platform: journal.platform,
      pid: f.pid,
      strategies: { ...f.strategies },
      maxDurationSeconds: f.max_duration_ms / 1000,
    },
  };
}

/** The thresholds of the experiment and its stop conditions, for the charts (unparsable ones left out). */
export function chartThresholds(journal: Journal): ChartThreshold[] {
  const steady = (journal.experiment as { steadyState?: { thresholds?: unknown } } | null)
    ?.steadyState;
  const written = Array.isArray(steady?.thresholds)
    ? steady.thresholds.filter((c): c is string => typeof c === 'string')
    : [];
  const out: ChartThreshold[] = [];
  const add = (sources: string[], kind: ChartThreshold['kind']): void => {
    for (const source of sources) {
      const parsed = parseThreshold(source);
      if (!parsed.ok) continue;
      const t = parsed.threshold;
      if (t.metric === 'rps')
        out.push({ chart: 'throughput', value: t.value, label: source, kind });
      else if (t.metric === 'error_rate')
        out.push({ chart: 'errors', value: t.value * 100, label: source, kind });
      else out.push({ chart: 'latency', value: t.value, label: source, kind });
    }
  };
  add(written, 'threshold');
  add(stopConditionsOf(journal), 'stop');
  return out;
}

function stopConditionsOf(journal: Journal): string[] {
  const safety = (journal.experiment as { safety?: { abortWhen?: unknown } } | null)?.safety;
  const load = Array.isArray(safety?.abortWhen)
    ? safety.abortWhen.filter((c): c is string => typeof c === 'string')
    : [];
  // The signals' conditions by the names the run gave them (`safety.stopWhen`).
  return [...load, ...(journal.faultline.stop_conditions ?? []).map((c) => c.name)];
}

function health(value: unknown): { trustworthy: boolean | undefined; problems: string[] } {
  const h = (value ?? {}) as { trustworthy?: unknown; problems?: unknown };
  return {
    trustworthy: typeof h.trustworthy === 'boolean' ? h.trustworthy : undefined,
    problems: Array.isArray(h.problems)
      ? h.problems.filter((p): p is string => typeof p === 'string')
      : [],
  };
}

/** The series and everything placed on its time axis. */
function timeline(
  journal: Journal,
  faults: FaultRow[],
): { series: ReportSeries; windows: TimeWindow[]; markers: TimeMarker[] } {
  const origin = loadOrigin(journal);
  const at = (iso: string | undefined): number | undefined => {
    const t = ms(iso);
    return t === undefined ? undefined : Math.round((t - origin) / 10) / 100;
  };
  const raw = (journal.faultline.load?.series ?? []) as Record<string, unknown>[];
  const series: ReportSeries = { t: [], p50: [], p99: [], rps: [], errorRate: [] };
  for (const [i, s] of raw.entries()) {
    const num = (k: string): number => (typeof s[k] === 'number' ? s[k] : 0);
    series.t.push((typeof s['second'] === 'number' ? s['second'] : i) + 0.5);
    series.p50.push(num('p50'));
    series.p99.push(num('p99'));
    series.rps.push(num('rps'));
    series.errorRate.push(Math.round(num('error_rate') * 10000) / 100);
  }
  const end = at(journal.end) ?? series.t.length;
  const windows: TimeWindow[] = [];
  for (const fault of faults) {
    const from = at(fault.appliedAt);
    if (from === undefined) continue;
    windows.push({
      label: `${fault.name} on ${fault.target}`,
      from,
      to: at(fault.removedAt) ?? end,
    });
  }
  const markers: TimeMarker[] = [];
  const stop = journal.faultline.stop;
  if (stop) {
    const breach = at(stop.measurable_at);
    if (breach !== undefined)
      markers.push({
        kind: 'abort',
        at: breach,
        label: `abort: ${stop.condition} (${stop.value})`,
      });
  }
  for (const r of journal.rollbacks) {
    const t = at(r.start);
    if (t !== undefined) markers.push({ kind: 'rollback', at: t, label: `rollback: ${r.name}` });
  }
  // The after phase stops judging at the window in which the system recovered: the end of its
  // threshold checks is the instant of recovery.
  const recovered = (
    journal.faultline.load?.phases.after as { recovered_after_ms?: number | null } | undefined
  )?.recovered_after_ms;
  const recoveredAt = at(journal.steady_states.after?.probes.find((p) => isThreshold(p))?.end);
  if (typeof recovered === 'number' && recoveredAt !== undefined) {
    markers.push({
      kind: 'recovered',
      at: recoveredAt,
      label: `recovered (${recovered} ms after the method)`,
    });
  }
  if (journal.status === 'interrupted' && journal.end)
    markers.push({ kind: 'interrupted', at: end, label: 'interrupted' });
  return { series, windows, markers };
}
