/**
 * Load metrics: an HDR histogram of latencies (microseconds, 3 significant digits) for the
 * whole run, one per second for the time series and for windowed thresholds, status classes,
 * errors, and the sends that left late or were dropped.
 *
 * Latency is measured from each request's *scheduled* send time (open model), so time a
 * request spent waiting because the service stalled is counted, not hidden.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** One hour in microseconds: longer latencies are clamped. */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** Counters of one interval (a second, a window, a phase or the whole run). */
export interface Counts {
  /** Requests that were due (scheduled) in the interval. */
  scheduled: number;
  /** Requests that completed (any status) or failed in the interval. */
  completed: number;
  /** Network errors and timeouts (no HTTP status). */
  errors: number;
  /** Timeouts, a subset of `errors`. */
  timeouts: number;
  /** Sends that left later than the lateness threshold. */
  late: number;
  /** Sends dropped because every connection was busy at the cap of in-flight requests. */
  dropped: number;
  status: Record<StatusClass, number>;
}

export function emptyCounts(): Counts {
  return {
    scheduled: 0,
    completed: 0,
    errors: 0,
    timeouts: 0,
    late: 0,
    dropped: 0,
    status: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
  };
}

function addCounts(into: Counts, from: Counts): void {
  into.scheduled += from.scheduled;
  into.completed += from.completed;
  into.errors += from.errors;
  into.timeouts += from.timeouts;
  into.late += from.late;
  into.dropped += from.dropped;
  for (const k of Object.keys(into.status) as StatusClass[]) into.status[k] += from.status[k];
}

/** A summary of an interval, as the journal and thresholds see it (times in milliseconds). */
export interface Summary extends Counts {
  /** Seconds the interval covers. */
  seconds: number;
  /** Completed requests per second. */
  rps: number;
  /** (errors + 5xx) / completed; 0 when nothing completed. */
  error_rate: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function summarize(histogram: Histogram, counts: Counts, seconds: number): Summary {
  const ms = (us: number): number => Math.round(us) / 1000;
  const n = histogram.totalCount;
  const at = (percentile: number): number => ms(percentileWithin(histogram, percentile));
  return {
    ...counts,
    status: { ...counts.status },
    seconds,
    rps: seconds > 0 ? counts.completed / seconds : 0,
    error_rate:
      counts.completed > 0 ? (counts.errors + counts.status['5xx']) / counts.completed : 0,
    p50: n ? at(50) : 0,
    p90: n ? at(90) : 0,
    p95: n ? at(95) : 0,
    p99: n ? at(99) : 0,
    p999: n ? at(99.9) : 0,
    max: n ? ms(histogram.maxValue) : 0,
    mean: n ? ms(histogram.mean) : 0,
  };
}

/**
 * A percentile that lies between the smallest and the largest latency recorded. An HDR
 * histogram answers a percentile with the *highest* value of the bucket it falls in (at 3
 * significant digits a bucket near 1 s is 1 ms wide), while its min and max are the exact values
 * recorded: `faultline load` printed a p99.9 above its max. Clamping keeps the printed order
 * (min ≤ p50 ≤ … ≤ p99.9 ≤ max) without changing any percentile by more than its bucket.
 */
export function percentileWithin(histogram: Histogram, percentile: number): number {
  const value = histogram.getValueAtPercentile(percentile);
  return Math.min(Math.max(value, histogram.minNonZeroValue), histogram.maxValue);
}

const STATUS_CLASSES: readonly (StatusClass | undefined)[] = [
  undefined,
  '1xx',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
];

function count(c: Counts, cls: StatusClass | undefined, timeout: boolean): void {
  c.completed++;
  if (cls === undefined) {
    c.errors++;
    if (timeout) c.timeouts++;
  } else c.status[cls]++;
}

/** One bucket of the run (a second by default; the runner uses 100 ms for quick reactions). */
export interface Bucket {
  /** Index since the start of the run: the bucket covers [index·bucketMs, (index+1)·bucketMs). */
  index: number;
  histogram: Histogram;
  counts: Counts;
}

/** The run's metrics: totals plus a bucket per `bucketMs`. */
export class LoadMetrics {
  readonly totals = emptyCounts();
  readonly buckets: Bucket[] = [];

  /**
   * Requests sent and not answered yet, in send order: `inFlight[id - firstId]` is the time the
   * latency of request `id` counts from, NaN once it settled. Sends are in schedule order and
   * most answers come back in order, so a queue with a head that skips settled entries costs
   * an array store per request where a Map cost a hash insert and delete.
   */
  private inFlight: number[] = [];
  private head = 0;
  private firstId = 0;
  private nextId = 0;

  constructor(
    readonly startMs: number,
    readonly bucketMs = 1000,
  ) {}

  /** A request left (its latency counts from `fromMs`); pass the id to {@link settled}. */
  began(fromMs: number): number {
    this.inFlight.push(fromMs);
    return this.nextId++;
  }

  settled(id: number): void {
    const at = id - this.firstId;
    if (at < this.head || at >= this.inFlight.length) return;
    this.inFlight[at] = Number.NaN;
    if (at !== this.head) return;
    const q = this.inFlight;
    let head = this.head + 1;
    while (head < q.length && Number.isNaN(q[head])) head++;
    if (head === q.length) {
      // Nothing in flight: start over (the common case under a steady load).
      this.firstId += q.length;
      q.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= q.length) {
      this.firstId += head;
      q.splice(0, head);
      head = 0;
    }
    this.head = head;
  }

  /**
   * How long the oldest unanswered request has waited at `nowMs` (undefined when none is
   * waiting). A window in which nothing completed is judged by it: a service that answers
   * nothing for 3 s has a latency of at least 3 s, not "no data".
   */
  oldestInFlightMs(nowMs: number): number | undefined {
    let oldest: number | undefined;
    // Sends are nearly in schedule order, so the first entries are the oldest; a few that left
    // slightly out of order are covered by looking at the first handful still in flight.
    let seen = 0;
    const q = this.inFlight;
    for (let i = this.head; i < q.length && seen < 16; i++) {
      const from = q[i]!;
      if (Number.isNaN(from)) continue;
      if (oldest === undefined || from < oldest) oldest = from;
      seen++;
    }
    return oldest === undefined ? undefined : nowMs - oldest;
  }

  /**
   * How many unanswered requests have waited longer than `ageMs` at `nowMs`. They are not in
   * any window yet (a window counts requests by when they complete), but each will have a
   * latency above `ageMs`: a latency bound judged without them passes while the slowest
   * requests are still on their way.
   */
  inFlightOlderThan(nowMs: number, ageMs: number): number {
    let count = 0;
    let younger = 0;
    const q = this.inFlight;
    // Oldest first, nearly in order: stop after a run of younger ones.
    for (let i = this.head; i < q.length && younger < 16; i++) {
      const from = q[i]!;
      if (Number.isNaN(from)) continue;
      if (nowMs - from > ageMs) {
        count++;
        younger = 0;
      } else younger++;
    }
    return count;
  }

  private bucket(atMs: number): Bucket {
    const index = Math.max(0, Math.floor((atMs - this.startMs) / this.bucketMs));
    while (this.buckets.length <= index)
      this.buckets.push({
        index: this.buckets.length,
        histogram: newHistogram(),
        counts: emptyCounts(),
      });
    return this.buckets[index]!;
  }

  scheduled(atMs: number, late: boolean): void {
    const b = this.bucket(atMs);
    b.counts.scheduled++;
    this.totals.scheduled++;
    if (late) {
      b.counts.late++;
      this.totals.late++;
    }
  }

  dropped(atMs: number): void {
    this.bucket(atMs).counts.dropped++;
    this.totals.dropped++;
  }

  /** A response (`status`) or a failure (`status` undefined) at `atMs`, `latencyMs` after it was due. */
  completed(atMs: number, latencyMs: number, status: number | undefined, timeout = false): void {
    const b = this.bucket(atMs);
    const us = Math.min(HIGHEST_US, Math.max(1, Math.round(latencyMs * 1000)));
    b.histogram.recordValue(us); // one histogram per request: the total is merged at the end
    const cls =
      status === undefined
        ? undefined
        : STATUS_CLASSES[Math.min(5, Math.max(1, Math.floor(status / 100)))]!;
    count(b.counts, cls, timeout);
    count(this.totals, cls, timeout);
  }

  /** Summary of [fromMs, toMs) since the start (rounded to whole buckets). */
  windowMs(fromMs: number, toMs: number): Summary {
    const { histogram, counts, seconds } = this.merged(fromMs, toMs);
    return summarize(histogram, counts, seconds);
  }

  /** The latencies of [fromMs, toMs) as one histogram (for comparing phases). */
  histogramMs(fromMs: number, toMs: number): Histogram {
    return this.merged(fromMs, toMs).histogram;
  }

  private merged(
    fromMs: number,
    toMs: number,
  ): { histogram: Histogram; counts: Counts; seconds: number } {
    const from = Math.max(0, Math.floor(fromMs / this.bucketMs));
    const to = Math.max(from, Math.ceil(toMs / this.bucketMs));
    const histogram = newHistogram();
    const counts = emptyCounts();
    for (let i = from; i < to && i < this.buckets.length; i++) {
      const b = this.buckets[i]!;
      histogram.add(b.histogram);
      addCounts(counts, b.counts);
    }
    return { histogram, counts, seconds: ((to - from) * this.bucketMs) / 1000 };
  }

  /** Summary of the whole run. */
  whole(seconds: number): Summary {
    const histogram = newHistogram();
    for (const b of this.buckets) histogram.add(b.histogram);
    return summarize(histogram, this.totals, seconds);
  }

  /** Summary of the seconds in [fromSecond, toSecond). */
  window(fromSecond: number, toSecond: number): Summary {
    return this.windowMs(fromSecond * 1000, toSecond * 1000);
  }

  /** Whole seconds covered so far. */
  get secondCount(): number {
    return Math.ceil((this.buckets.length * this.bucketMs) / 1000);
  }

  /** The per-second time series, for the journal and the reports. */
  series(): (Summary & { second: number })[] {
    return Array.from({ length: this.secondCount }, (_, second) => ({
      second,
      ...this.window(second, second + 1),
    }));
  }
}
