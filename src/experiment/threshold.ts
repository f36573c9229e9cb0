/**
 * Thresholds over load metrics, as people write them in experiments:
 *
 * ```
 *   threshold = metric SP op SP value [ SP "over" SP duration ] [ SP "for" SP duration ]
 *   metric    = "p50" | "p90" | "p95" | "p99" | "p999" | "max" | "mean"      ; latency, a duration value
 *             | "error_rate"                                                 ; a percentage value
 *             | "rps"                                                        ; a number value
 *   op        = "<" | "<=" | ">" | ">="
 *   value     = duration ("2s", "500ms") | percentage ("1%") | number ("150")
 *   over      : the sliding window the metric is computed on (default: 1s for stop
 *               conditions, the whole phase for hypotheses)
 *   for       : (stop conditions) the breach must last this long before it counts
 * ```
 *
 * Examples: `p99 < 2s`, `error_rate < 1%`, `rps > 150`, `p99 < 2s over 10s`,
 * `error_rate > 5% for 5s`. A threshold *holds* when the comparison is true.
 */
import { parseDuration, parsePercentage } from './duration.js';

export type ThresholdMetric =
  'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'mean' | 'error_rate' | 'rps';
/** What a threshold is measured on: a window's figures (the load generator's Summary has them). */
export type MeasuredWindow = Readonly<Record<ThresholdMetric, number>>;

const LATENCY = new Set(['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean']);
const METRICS: readonly ThresholdMetric[] = [
  'p50',
  'p90',
  'p95',
  'p99',
  'p999',
  'max',
  'mean',
  'error_rate',
  'rps',
];

export interface Threshold {
  source: string;
  metric: ThresholdMetric;
  op: '<' | '<=' | '>' | '>=';
  /** Milliseconds for latency, a fraction for error_rate, per second for rps. */
  value: number;
  overMs: number | undefined;
  forMs: number | undefined;
}

export type ThresholdParse =
  { ok: true; threshold: Threshold } | { ok: false; message: string; hint?: string };

/** Parses one threshold; never throws. */
export function parseThreshold(text: string): ThresholdParse {
  const tokens = text.trim().split(/\s+/);
  const [metric, op, value, ...rest] = tokens;
  if (!metric || !op || value === undefined) {
    return {
      ok: false,
      message: `"${text}" is not a threshold`,
      hint: 'write metric, comparison, value: "p99 < 2s", "error_rate < 1%", "rps > 150"',
    };
  }
  if (!(METRICS as readonly string[]).includes(metric)) {
    return {
      ok: false,
      message: `unknown metric "${metric}"`,
      hint: `one of ${METRICS.join(', ')}`,
    };
  }
  if (!['<', '<=', '>', '>='].includes(op))
    return { ok: false, message: `unknown comparison "${op}"`, hint: 'one of <, <=, >, >=' };
  let parsed: number | undefined;
  if (LATENCY.has(metric)) {
    parsed = parseDuration(value);
    if (parsed === undefined)
      return {
        ok: false,
        message: `${metric} compares with a duration, not "${value}"`,
        hint: 'e.g. 2s, 500ms',
      };
  } else if (metric === 'error_rate') {
    parsed = parsePercentage(value);
    if (parsed === undefined)
      return {
        ok: false,
        message: `error_rate compares with a percentage, not "${value}"`,
        hint: 'e.g. 1%',
      };
  } else {
    parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
    if (parsed === undefined)
      return { ok: false, message: `rps compares with a number, not "${value}"`, hint: 'e.g. 150' };
  }
  let overMs: number | undefined;
  let forMs: number | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const word = rest[i];
    const arg = rest[i + 1];
    const ms = arg === undefined ? undefined : parseDuration(arg);
    if ((word !== 'over' && word !== 'for') || ms === undefined || ms <= 0) {
      return {
        ok: false,
        message: `unexpected "${rest.slice(i).join(' ')}"`,
        hint: 'optionally end with "over 10s" (window) and/or "for 5s" (how long a breach must last)',
      };
    }
    if (word === 'over') overMs = ms;
    else forMs = ms;
  }
  return {
    ok: true,
    threshold: {
      source: text.trim(),
      metric: metric as ThresholdMetric,
      op: op as Threshold['op'],
      value: parsed,
      overMs,
      forMs,
    },
  };
}

/** The metric's value in a summary (milliseconds, fraction, or per second). */
export function metricValue(summary: MeasuredWindow, metric: ThresholdMetric): number {
  return summary[metric];
}

/** Does the threshold hold for this summary? */
export function holds(threshold: Threshold, summary: MeasuredWindow): boolean {
  const v = metricValue(summary, threshold.metric);
  switch (threshold.op) {
    case '<':
      return v < threshold.value;
    case '<=':
      return v <= threshold.value;
    case '>':
      return v > threshold.value;
    case '>=':
      return v >= threshold.value;
  }
}

/** Renders a measured value in the threshold's unit. */
export function formatMetric(threshold: Threshold, summary: MeasuredWindow): string {
  const v = metricValue(summary, threshold.metric);
  if (threshold.metric === 'error_rate') return `${(v * 100).toFixed(2)}%`;
  if (threshold.metric === 'rps') return `${v.toFixed(1)}/s`;
  return `${v.toFixed(1)} ms`;
}
