/**
 * Stop conditions (`abortWhen: ["error_rate > 5% for 5s"]`): checked every 50 ms on a sliding
 * window of the live load (the threshold's `over`, default 1 s). A condition is *breached* when
 * its comparison is true over the window — continuously for its `for` duration when it has one.
 * The monitor reports the first breach once, with the measured value and the moment the breach
 * became measurable; the runner then removes every fault at once.
 */
import { performance } from 'node:perf_hooks';
import { formatMetric, holds, type Threshold } from '../load/threshold.js';
import type { Summary } from '../load/metrics.js';

export interface Breach {
  condition: string;
  value: string;
  /** Wall clock and monotonic time (ms) at which the breach became measurable. */
  measurable_at: string;
  measurableMs: number;
}

export interface StopConditionSource {
  now(): number;
  window(fromMs: number, toMs: number): Summary | undefined;
}

export const CHECK_INTERVAL_MS = 50;

export class StopConditionMonitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly since = new Map<Threshold, number>();

  constructor(
    private readonly conditions: readonly Threshold[],
    private readonly source: StopConditionSource,
    private readonly onBreach: (breach: Breach) => void,
  ) {}

  start(): void {
    if (this.conditions.length === 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; exported for tests. */
  check(): Breach | undefined {
    const now = this.source.now();
    for (const condition of this.conditions) {
      const over = condition.overMs ?? 1000;
      const summary = this.source.window(Math.max(0, now - over), now + 1);
      const measurable = summary !== undefined && (condition.metric === 'rps' ? summary.scheduled > 0 : summary.completed > 0);
      if (!measurable || !holds(condition, summary)) {
        this.since.delete(condition);
        continue;
      }
      const since = this.since.get(condition) ?? now;
      this.since.set(condition, since);
      if (now - since >= (condition.forMs ?? 0)) {
        const breach: Breach = { condition: condition.source, value: formatMetric(condition, summary), measurable_at: new Date().toISOString(), measurableMs: performance.now() };
        this.stop();
        this.onBreach(breach);
        return breach;
      }
    }
    return undefined;
  }
}
