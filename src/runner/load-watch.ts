/**
 * The load a run keeps on its service, and the thresholds judged on it.
 *
 * The load starts when the run does and stops when the after phase ends, with 100 ms buckets so
 * that windows can be read at any moment (stop conditions react within a tick, not a second).
 * Threshold verdicts are written as probe runs (`load: p99 < 2s`) into the steady states, so
 * the journal and the reports treat them like any other probe.
 */
import { performance } from 'node:perf_hooks';
import { runLoad, type LoadReport } from '../load/generator.js';
import type { Histogram, LoadMetrics, Summary } from '../load/metrics.js';
import { formatMetric, holds, type Threshold } from '../experiment/threshold.js';
import type { ActivityRun } from '../journal/journal.js';
import type { PlannedLoad } from '../run-plan/plan.js';

/** Metrics that are latencies: a request still waiting bounds them from below. */
const LATENCY_METRICS = new Set(['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean']);
/** The quantile each latency metric is (the mean is not one: unanswered requests cannot decide it). */
const QUANTILES: Partial<Record<string, number>> = {
  p50: 0.5,
  p90: 0.9,
  p95: 0.95,
  p99: 0.99,
  p999: 0.999,
  max: 1,
};

export class LoadWatch {
  private metrics: LoadMetrics | undefined;
  private readonly stopper = new AbortController();
  private readonly done: Promise<LoadReport>;
  private readonly started = performance.now();

  constructor(
    readonly spec: PlannedLoad,
    maxDurationMs: number,
  ) {
    this.done = runLoad({
      url: spec.url,
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      stages: [{ durationMs: maxDurationMs, from: spec.rate }],
      connections: spec.connections,
      timeoutMs: spec.timeoutMs,
      sendWindowMs: spec.sendWindowMs,
      bucketMs: 100,
      signal: this.stopper.signal,
      onStart: (metrics) => {
        this.metrics = metrics;
      },
    });
    this.done.catch(() => undefined);
  }

  /** Milliseconds since the load started. */
  now(): number {
    return this.metrics
      ? performance.now() - this.metrics.startMs
      : performance.now() - this.started;
  }

  /**
   * The wall-clock instant {@link LoadWatch.now} counts from (ISO 8601, ms): the origin of the
   * per-second series, recorded in the journal so reports place instants on the series' axis.
   */
  startedAt(): string {
    return new Date(Date.now() - this.now()).toISOString();
  }

  /** Summary of [fromMs, toMs) since the load started. */
  window(fromMs: number, toMs: number): Summary | undefined {
    return this.metrics?.windowMs(fromMs, toMs);
  }

  /** The latencies of [fromMs, toMs) as one histogram. */
  histogram(fromMs: number, toMs: number): Histogram | undefined {
    return this.metrics?.histogramMs(fromMs, toMs);
  }

  /** Judges thresholds on a window; one probe-like run per threshold. */
  judge(
    thresholds: readonly Threshold[],
    fromMs: number,
    toMs: number,
    phase: string,
  ): ActivityRun[] {
    const summary = this.window(fromMs, toMs);
    const start = new Date(Date.now() - (this.now() - fromMs)).toISOString();
    const end = new Date(Date.now() - (this.now() - toMs)).toISOString();
    return thresholds.map((threshold) => {
      const completed = summary !== undefined && summary.completed > 0;
      let met = completed && holds(threshold, summary);
      let value = completed ? formatMetric(threshold, summary) : 'no request completed';
      const waited =
        !completed && this.metrics
          ? this.metrics.oldestInFlightMs(this.metrics.startMs + toMs)
          : undefined;
      // Requests still waiting longer than a latency bound will each be over it: counted with
      // the completed ones, they decide a quantile the completed ones alone would pass.
      const quantile = QUANTILES[threshold.metric];
      if (
        met &&
        completed &&
        this.metrics &&
        quantile !== undefined &&
        (threshold.op === '<' || threshold.op === '<=')
      ) {
        const late = this.metrics.inFlightOlderThan(this.metrics.startMs + toMs, threshold.value);
        const total = summary.completed + late;
        if (late > 0 && late / total > 1 - quantile) {
          met = false;
          value = `≥ ${threshold.value} ms (${late} of ${total} requests still waiting longer than that)`;
        }
      }
      if (waited !== undefined) {
        // Nothing completed in the window but requests are waiting: a latency bound is judged
        // by the oldest of them (over the bound, it is already violated; under it, nothing is
        // late yet); an error rate is not measurable yet, and not a failure.
        if (
          LATENCY_METRICS.has(threshold.metric) &&
          (threshold.op === '<' || threshold.op === '<=')
        ) {
          met = threshold.op === '<' ? waited < threshold.value : waited <= threshold.value;
          value = `≥ ${waited.toFixed(1)} ms (nothing completed; the oldest request has waited that long)`;
        } else if (threshold.metric === 'error_rate') {
          met = true;
          value = 'not measurable yet (nothing completed, requests in flight)';
        }
      }
      return {
        activity: {
          type: 'threshold',
          threshold: threshold.source,
          window_ms: Math.round(toMs - fromMs),
          phase,
        },
        name: `load: ${threshold.source}`,
        output: summary
          ? {
              value,
              completed: summary.completed,
              p50: summary.p50,
              p99: summary.p99,
              error_rate: summary.error_rate,
              rps: summary.rps,
            }
          : null,
        start,
        end,
        duration: (toMs - fromMs) / 1000,
        status: 'succeeded',
        tolerance_met: met,
        reason: met
          ? undefined
          : `${threshold.metric} was ${value} over ${((toMs - fromMs) / 1000).toFixed(1)} s (${phase})`,
      } satisfies ActivityRun;
    });
  }

  /** Stops the load and returns its report. */
  async stop(): Promise<LoadReport | undefined> {
    this.stopper.abort();
    return this.done.catch(() => undefined);
  }
}
