/**
 * Stop conditions, two kinds, one monitor:
 *
 * - on the load (`abortWhen: ["error_rate > 5% for 5s"]`): checked every 50 ms on a sliding
 *   window of the live load (the threshold's `over`, default 1 s). A condition is *breached*
 *   when its comparison is true over the window — continuously for its `for` duration when it
 *   has one;
 * - on the system's own signals (`stopWhen`: a Prometheus query, an HTTP check, a firing
 *   Alertmanager alert, a command): each checked on its own cadence (`every`, at most 1 s), each
 *   check bounded by its timeout and by the monitor's AbortSignal. Breached when a check
 *   breaches — and every check since the first breaching one did, for its `for` duration.
 *
 * The monitor reports the first breach once, with the value and the moment the breach became
 * measurable (load) or was detected (the check that found it came back); the runner then removes
 * every fault at once.
 *
 * A signal that cannot be evaluated (its source down, a timeout, a bad answer) is never silent:
 * every check that fails is counted in the condition's journal record, each stretch of failures
 * is kept with its error, and its start is a warning. Whether it stops the run is the
 * condition's `onError`: `stop` (the default) stops it when the first check — made before any
 * fault is applied — fails, or after {@link ERROR_LIMIT} failed checks in a row during the method
 * (a run whose safety net is blind must not go on hurting a system; one lost scrape must not end
 * it); `continue` goes on, unguarded by that condition, and says so.
 */
import { performance } from 'node:perf_hooks';
import { formatMetric, holds, type Threshold } from '../experiment/threshold.js';
import type { StopConditionRecord } from '../journal/journal.js';
import type { Summary } from '../load/metrics.js';
import type { PlannedStopCondition } from '../run-plan/plan.js';
import { sleep } from '../shared/wait.js';

export interface Breach {
  condition: string;
  value: string;
  /** Wall clock and monotonic time (ms) at which the breach became measurable (was detected). */
  measurable_at: string;
  measurableMs: number;
  /** What the journal's `faultline.stop` records besides (a signal's kind, detection time, …). */
  details?: Record<string, unknown> | undefined;
}

export interface StopConditionSource {
  now(): number;
  window(fromMs: number, toMs: number): Summary | undefined;
}

export const CHECK_INTERVAL_MS = 50;
/** Failed checks in a row, during the method, that stop a run whose condition has onError: stop. */
export const ERROR_LIMIT = 3;
/** Stretches of failed checks kept per condition in the journal. */
const MAX_STRETCHES = 20;

export interface SignalOptions {
  /** The signal conditions (`stopWhen`). */
  signals?: readonly PlannedStopCondition[] | undefined;
  /** A condition could not be evaluated (the first failure of a stretch), or is back. */
  onWarning?: ((message: string) => void) | undefined;
  /** After each check of a signal condition, with its record (the control room shows it). */
  onCheck?: ((record: StopConditionRecord) => void) | undefined;
  /** The records changed in a way worth writing to disk now (an error stretch, a breach). */
  save?: (() => void) | undefined;
}

const iso = (): string => new Date().toISOString();

export class StopConditionMonitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly since = new Map<Threshold, number>();
  private readonly signals: readonly PlannedStopCondition[];
  /** One per signal condition, in order: the journal's `faultline.stop_conditions`. */
  readonly records: StopConditionRecord[];
  private readonly stopped = new AbortController();
  private fired = false;

  constructor(
    private readonly conditions: readonly Threshold[],
    private readonly source: StopConditionSource | undefined,
    private readonly onBreach: (breach: Breach) => void,
    private readonly options: SignalOptions = {},
  ) {
    this.signals = options.signals ?? [];
    this.records = this.signals.map((c) => ({
      name: c.name,
      kind: c.kind,
      describe: c.describe,
      every_ms: c.everyMs,
      for_ms: c.forMs,
      on_error: c.onError,
      state: 'not checked',
      checks: 0,
      errors: 0,
    }));
  }

  /**
   * Starts watching. Resolves once every signal condition has been checked once (each within
   * its timeout), so the caller can apply no fault while a condition is already breached — or
   * cannot be evaluated and must stop the run; the checks then go on on their own cadence.
   * `signal` (the run's) stops the monitor when it aborts.
   */
  async start(signal?: AbortSignal): Promise<void> {
    // The run's end (an interruption, a stop) ends every check in flight too.
    if (signal?.aborted) return;
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    if (this.conditions.length > 0 && this.source && !this.timer)
      this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    if (this.signals.length === 0) return;
    await Promise.all(this.signals.map((c, i) => this.checkSignal(c, this.records[i]!, true)));
    this.options.save?.();
    this.signals.forEach((c, i) => void this.loop(c, this.records[i]!));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped.abort();
  }

  private fire(breach: Breach): void {
    if (this.fired) return;
    this.fired = true;
    this.stop();
    this.onBreach(breach);
  }

  /** One check of the load conditions; exported for tests. */
  check(): Breach | undefined {
    if (!this.source || this.fired) return undefined;
    const now = this.source.now();
    for (const condition of this.conditions) {
      const over = condition.overMs ?? 1000;
      const summary = this.source.window(Math.max(0, now - over), now + 1);
      const measurable =
        summary !== undefined &&
        (condition.metric === 'rps' ? summary.scheduled > 0 : summary.completed > 0);
      if (!measurable || !holds(condition, summary)) {
        this.since.delete(condition);
        continue;
      }
      const since = this.since.get(condition) ?? now;
      this.since.set(condition, since);
      if (now - since >= (condition.forMs ?? 0)) {
        const breach: Breach = {
          condition: condition.source,
          value: formatMetric(condition, summary),
          measurable_at: iso(),
          measurableMs: performance.now(),
        };
        this.fire(breach);
        return breach;
      }
    }
    return undefined;
  }

  private async loop(condition: PlannedStopCondition, record: StopConditionRecord): Promise<void> {
    let last = performance.now();
    const signal = this.stopped.signal;
    while (!signal.aborted) {
      // The next check starts `every` after the previous one started (at once if it ran late).
      const wait = Math.max(0, condition.everyMs - (performance.now() - last));
      await sleep(wait, signal);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- aborted while waiting
      if (signal.aborted) return;
      last = performance.now();
      await this.checkSignal(condition, record, false);
    }
  }

  /** Failed checks in a row, per condition. */
  private readonly failures = new Map<StopConditionRecord, number>();
  /** Monotonic time of the first check of the current breach, per condition. */
  private readonly breachingSince = new Map<StopConditionRecord, number>();

  /** One check of a signal condition: records it, and fires on a breach that lasted. */
  private async checkSignal(
    condition: PlannedStopCondition,
    record: StopConditionRecord,
    first: boolean,
  ): Promise<void> {
    const timeout = AbortSignal.timeout(condition.timeoutMs);
    const signal = AbortSignal.any([this.stopped.signal, timeout]);
    let reading: { breached: boolean; value: string } | undefined;
    let error: string | undefined;
    try {
      reading = await condition.evaluate(signal);
    } catch (err) {
      if (this.stopped.signal.aborted) return; // the run is over: not a failed check
      error = timeout.aborted
        ? `no answer within ${condition.timeoutMs} ms`
        : err instanceof Error
          ? err.message
          : String(err);
    }
    if (this.stopped.signal.aborted) return;
    const at = iso();
    const now = performance.now();
    record.checks++;
    record.first_check_at ??= at;
    record.last_check_at = at;
    if (reading === undefined) {
      this.failed(condition, record, error ?? 'unknown error', at, now, first);
      return;
    }
    const failures = this.failures.get(record) ?? 0;
    if (failures > 0) {
      this.failures.set(record, 0);
      const stretch = record.unevaluable?.[record.unevaluable.length - 1];
      if (stretch && stretch.to === undefined) stretch.to = at;
      this.options.onWarning?.(
        `stop condition "${condition.name}" can be evaluated again after ${failures} failed check${failures === 1 ? '' : 's'}`,
      );
      this.options.save?.();
    }
    record.last_value = reading.value;
    if (!reading.breached) {
      this.breachingSince.delete(record);
      record.breaching_since = undefined;
      record.state = 'ok';
      this.options.onCheck?.(record);
      return;
    }
    const since = this.breachingSince.get(record) ?? now;
    if (!this.breachingSince.has(record)) {
      this.breachingSince.set(record, since);
      record.breaching_since = at;
    }
    if (now - since < condition.forMs) {
      record.state = 'breaching';
      this.options.onCheck?.(record);
      return;
    }
    record.state = 'breached';
    this.options.onCheck?.(record);
    this.fire({
      condition: condition.name,
      value: reading.value,
      measurable_at: at,
      measurableMs: now,
      details: {
        kind: condition.kind,
        detected_at: at,
        ...(condition.forMs > 0 ? { breaching_since: record.breaching_since } : {}),
      },
    });
  }

  private failed(
    condition: PlannedStopCondition,
    record: StopConditionRecord,
    error: string,
    at: string,
    now: number,
    first: boolean,
  ): void {
    record.errors++;
    record.state = 'unknown';
    record.last_value = undefined;
    // An unknown check breaks a breach's `for`: it did not last, as far as anyone can tell.
    this.breachingSince.delete(record);
    record.breaching_since = undefined;
    const failures = (this.failures.get(record) ?? 0) + 1;
    this.failures.set(record, failures);
    const stretches = (record.unevaluable ??= []);
    const open = stretches[stretches.length - 1];
    if (failures === 1) {
      if (stretches.length < MAX_STRETCHES) stretches.push({ from: at, checks: 1, error });
      this.options.onWarning?.(
        `stop condition "${condition.name}" could not be evaluated: ${error}${condition.onError === 'continue' ? ' (onError: continue: the run goes on without it)' : ''}`,
      );
      this.options.save?.();
    } else if (open && open.to === undefined) {
      open.checks++;
      open.error = error;
    }
    this.options.onCheck?.(record);
    if (condition.onError !== 'stop' || (!first && failures < ERROR_LIMIT)) return;
    record.state = 'breached';
    this.fire({
      condition: condition.name,
      value: `could not be evaluated${first ? ' before the method' : ` ${failures} times in a row`}: ${error}`,
      measurable_at: at,
      measurableMs: now,
      details: { kind: condition.kind, detected_at: at, unevaluable: true },
    });
  }
}
