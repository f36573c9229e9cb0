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
import type { LoadMetrics, Summary } from '../load/metrics.js';
import { formatMetric, holds, type Threshold } from '../load/threshold.js';
import type { ActivityRun } from './journal.js';
import type { PlannedLoad } from './plan.js';

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
    return this.metrics ? performance.now() - this.metrics.startMs : performance.now() - this.started;
  }

  /** Summary of [fromMs, toMs) since the load started. */
  window(fromMs: number, toMs: number): Summary | undefined {
    return this.metrics?.windowMs(fromMs, toMs);
  }

  /** Judges thresholds on a window; one probe-like run per threshold. */
  judge(thresholds: readonly Threshold[], fromMs: number, toMs: number, phase: string): ActivityRun[] {
    const summary = this.window(fromMs, toMs);
    const start = new Date(Date.now() - (this.now() - fromMs)).toISOString();
    const end = new Date(Date.now() - (this.now() - toMs)).toISOString();
    return thresholds.map((threshold) => {
      const measured = summary !== undefined && summary.completed > 0;
      const met = measured && holds(threshold, summary);
      const value = measured ? formatMetric(threshold, summary) : 'no request completed';
      return {
        activity: { type: 'threshold', threshold: threshold.source, window_ms: Math.round(toMs - fromMs), phase },
        name: `load: ${threshold.source}`,
        output: summary ? { value, completed: summary.completed, p50: summary.p50, p99: summary.p99, error_rate: summary.error_rate, rps: summary.rps } : null,
        start,
        end,
        duration: (toMs - fromMs) / 1000,
        status: 'succeeded',
        tolerance_met: met,
        reason: met ? undefined : `${threshold.metric} was ${value} over ${((toMs - fromMs) / 1000).toFixed(1)} s (${phase})`,
      } satisfies ActivityRun;
    });
  }

  /** Stops the load and returns its report. */
  async stop(): Promise<LoadReport | undefined> {
    this.stopper.abort();
    return this.done.catch(() => undefined);
  }
}
