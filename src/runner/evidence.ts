/**
 * What the load shows, in two questions the verdict rests on.
 *
 * - Did a fault bite? When its target cannot count what it touched (a Toxiproxy server has no
 *   stats; a disabled proxy cannot see the connections the kernel refused), the load in the
 *   fault's window must differ from the baseline: a latency shift a rank test calls real
 *   (Mann–Whitney U, p < 0.01, the shift's lower confidence bound above 1 ms and a tenth of the
 *   baseline median), or an error rate two points above the baseline's.
 * - Did its effect outlive the run? After the rollbacks the load is measured again; it is
 *   residue only when the shift is real, larger than the tolerance asks, and at least half the
 *   effect the fault itself had: a CPU hog on a busy host slows a loopback service by a few
 *   milliseconds, a 300 ms toxic left behind by about 300 ms. One such window is not enough:
 *   the caller measures a second before it calls anything residue.
 */
import { describeShift, latencyShift } from '../load/latency-shift.js';
import type { Histogram, Summary } from '../load/metrics.js';

export interface LoadSample {
  summary: Summary;
  histogram: Histogram;
}

const failures = (s: Summary): number => s.errors + s.status['5xx'];
const pct = (s: Summary): string => `${(s.error_rate * 100).toFixed(1)}%`;

/** How the load shows the fault reaching the system, or undefined when it does not. */
export function loadShowsFault(baseline: LoadSample, during: LoadSample): string | undefined {
  const shift = latencyShift(baseline.histogram, during.histogram);
  if (shift && shift.p < 0.01 && shift.ci_ms[0] > Math.max(1, baseline.summary.p50 * 0.1))
    return `the load in the fault's window: ${describeShift(shift)}`;
  if (
    during.summary.completed >= 10 &&
    failures(during.summary) > 0 &&
    during.summary.error_rate > baseline.summary.error_rate + 0.02
  )
    return `the load in the fault's window: error rate ${pct(during.summary)} vs ${pct(baseline.summary)} before`;
  return undefined;
}

/**
 * How far the system is from its baseline after the rollbacks, or undefined when it is back.
 * `faultEffectMs` is the latency shift the faults themselves caused (0 when unknown).
 */
export function residueOf(
  baseline: LoadSample,
  after: LoadSample,
  tolerance: number,
  faultEffectMs: number,
): string | undefined {
  if (after.summary.completed === 0) return 'no request completed after the rollbacks';
  const gaps: string[] = [];
  const shift = latencyShift(baseline.histogram, after.histogram);
  const bound = Math.max(5, baseline.summary.p50 * tolerance, faultEffectMs * 0.5);
  if (shift && shift.p < 0.001 && shift.ci_ms[0] > bound)
    gaps.push(`${describeShift(shift)}, more than ${Math.round(bound)} ms`);
  if (
    after.summary.completed >= 10 &&
    after.summary.error_rate > baseline.summary.error_rate + Math.max(0.01, tolerance / 10)
  )
    gaps.push(`error rate ${pct(after.summary)} vs ${pct(baseline.summary)} before`);
  return gaps.length > 0 ? gaps.join('; ') : undefined;
}
