/**
 * Hypotheses as the reports show them: every probe and load threshold of a journal, one row per
 * hypothesis and phase, its checks folded together (a during-method threshold is judged once
 * per check), with the value measured set against the value expected.
 */
import { parseThreshold } from '../experiment/threshold.js';
import type { ActivityRun, Journal } from '../journal/journal.js';

/** Where a check was judged: the steady state before/during/after, or a method probe. */
export type CheckPhase = 'before' | 'during' | 'after' | 'method';

/** One hypothesis (a probe or a load threshold) in one phase, all its checks folded together. */
export interface HypothesisRow {
  phase: CheckPhase;
  name: string;
  kind: 'threshold' | 'probe' | 'recovery';
  /** What was expected, as written (`p99 < 400ms`, `status: 200`). */
  expected: string;
  /**
   * The value measured: of the worst failing check for a load threshold (the highest p99 of the
   * windows over a `<` bound, the lowest rps under a `>` bound), of the first failing check for
   * a probe, else of the last check.
   */
  measured: string;
  met: boolean;
  /** The first failing check could not run at all (an error, not a deviation). */
  errored: boolean;
  /** How many times it was judged in this phase (during: once per check), and how many failed. */
  checks: number;
  failed: number;
  /** Why it failed, in a sentence (the first failing check's). */
  reason: string | undefined;
  /** Seconds the checks took, summed (JUnit's `time`). */
  seconds: number;
}

/** The value a check measured, in words: a threshold's value, an HTTP status, a query's value. */
export function measuredValue(run: ActivityRun): string {
  if (run.status === 'failed')
    return `error: ${run.exception?.[0] ?? run.reason ?? 'the probe could not run'}`;
  if (run.status === 'interrupted') return 'interrupted';
  const out = run.output as Record<string, unknown> | null | undefined;
  if (out === null || out === undefined) return '(no output)';
  if (typeof out !== 'object') return truncate(String(out));
  if (typeof out['value'] === 'string' && isThreshold(run)) return out['value'];
  const ms = typeof out['elapsedMs'] === 'number' ? ` in ${Math.round(out['elapsedMs'])} ms` : '';
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify(undefined) is undefined, which its type omits
  if ('value' in out) return `${truncate(JSON.stringify(out['value']) ?? 'null')}${ms}`;
  if (typeof out['status'] === 'number' && ('headers' in out || 'body' in out))
    return `HTTP ${out['status']}${ms}`;
  if (typeof out['status'] === 'number' && ('stdout' in out || 'stderr' in out))
    return `exit code ${out['status']}`;
  if (typeof out['exitCode'] === 'number') return `exit code ${out['exitCode']}`;
  if (typeof out['open'] === 'boolean') return out['open'] ? `port open${ms}` : 'port closed';
  return truncate(JSON.stringify(out));
}

/** A load threshold (or the recovery check), whose output carries its measured value. */
export function isThreshold(run: ActivityRun): boolean {
  const a = run.activity as { type?: unknown } | null;
  return a !== null && typeof a === 'object' && (a.type === 'threshold' || a.type === 'recovery');
}

/** What a check expected, as the experiment wrote it. */
export function expectedValue(run: ActivityRun): string {
  const a = (run.activity ?? {}) as Record<string, unknown>;
  if (a['type'] === 'threshold' && typeof a['threshold'] === 'string') return a['threshold'];
  if (a['type'] === 'recovery')
    return `back to the baseline (within ${formatShare(a['baseline_tolerance'])})`;
  if (a['expect'] !== undefined) return compact(a['expect']);
  if (a['tolerance'] !== undefined) return `tolerance ${compact(a['tolerance'])}`;
  return run.tolerance_met === undefined ? '(no expectation)' : '(its expectation)';
}

function formatShare(v: unknown): string {
  return typeof v === 'number' ? `${Math.round(v * 1000) / 10} %` : String(v ?? '');
}

/** `{status: 200, latency: '500ms'}` → `status: 200, latency: 500ms`. */
function compact(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return truncate(
      Object.entries(value)
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', '),
    );
  }
  return truncate(typeof value === 'string' ? value : JSON.stringify(value));
}

function truncate(s: string, max = 160): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * How bad a threshold check's measured value is, larger is worse (a latency over `p99 < 2s`, an
 * rps under `rps > 100`); undefined when it is not a threshold or its value is not a number.
 * The journal's value is `formatMetric`'s text (`1268.0 ms`, `16.00%`, `≥ 3001.0 ms (…)`), in
 * one unit per metric, so its leading number compares.
 */
export function badness(run: ActivityRun): number | undefined {
  const a = run.activity as { type?: unknown; threshold?: unknown } | null;
  if (a?.type !== 'threshold' || typeof a.threshold !== 'string') return undefined;
  const parsed = parseThreshold(a.threshold);
  const value = (run.output as { value?: unknown } | null | undefined)?.value;
  const n = typeof value === 'string' ? /-?\d+(?:\.\d+)?/.exec(value)?.[0] : undefined;
  if (!parsed.ok || n === undefined) return undefined;
  return parsed.threshold.op === '<' || parsed.threshold.op === '<=' ? Number(n) : -Number(n);
}

/** Folds the checks of one phase into one row per hypothesis, in first-seen order. */
function foldPhase(phase: CheckPhase, runs: ActivityRun[]): HypothesisRow[] {
  const rows = new Map<string, HypothesisRow>();
  // The worst failing value so far per row, for thresholds judged once per check.
  const worst = new Map<string, number>();
  for (const run of runs) {
    if (run.tolerance_met === undefined && run.status !== 'failed') continue; // nothing judged
    const met = run.tolerance_met === true;
    let row = rows.get(run.name);
    if (!row) {
      const type = (run.activity as { type?: unknown } | null)?.type;
      row = {
        phase,
        name: run.name,
        kind: type === 'threshold' ? 'threshold' : type === 'recovery' ? 'recovery' : 'probe',
        expected: expectedValue(run),
        measured: measuredValue(run),
        met: true,
        errored: false,
        checks: 0,
        failed: 0,
        reason: undefined,
        seconds: 0,
      };
      rows.set(run.name, row);
    }
    row.checks++;
    row.seconds += Number.isFinite(run.duration) ? run.duration : 0;
    if (!met) {
      const bad = badness(run);
      const worse = bad !== undefined && bad > (worst.get(run.name) ?? -Infinity);
      if (row.met || worse) {
        // A probe shows its first failure (what broke first); a threshold its worst window (a
        // reader checking "was it 1045 ms or 1268 ms?" wants the peak, not the onset).
        row.measured = measuredValue(run);
        row.reason = run.reason ?? run.exception?.[0];
        row.errored = run.status === 'failed';
      }
      if (worse) worst.set(run.name, bad);
      row.met = false;
      row.failed++;
    } else if (row.met) row.measured = measuredValue(run);
  }
  return [...rows.values()];
}

/** Every hypothesis of a journal, phase by phase (method probes with an expectation included). */
export function hypothesisRows(journal: Journal): HypothesisRow[] {
  const ss = journal.steady_states;
  return [
    ...foldPhase('before', ss.before?.probes ?? []),
    ...foldPhase(
      'during',
      ss.during.flatMap((s) => s.probes),
    ),
    ...foldPhase(
      'method',
      journal.run.filter((r) => r.tolerance_met !== undefined),
    ),
    ...foldPhase('after', ss.after?.probes ?? []),
  ];
}
