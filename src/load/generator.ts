/**
 * The HTTP load generator.
 *
 * Open model (default): requests leave at their scheduled times whatever the responses, and
 * latency is measured from the *scheduled* time, so a service that stalls for a second shows a
 * second of latency instead of just fewer requests (a closed loop hides it: the "coordinated
 * omission" of wrk-style tools). Closed model (`concurrency`): N loops, each sending its next
 * request when the previous one answered — what autocannon does; offered when asked for.
 *
 * The generator watches its own health: sends that left late, requests dropped at the in-flight
 * cap, and event-loop lag. When it could not hold the rate, the report says the measurement is
 * not trustworthy rather than blaming the target.
 *
 * HTTP goes through a lean keep-alive client (./http-client.ts): pre-encoded requests, a
 * response parsed only for its status and its end, so the generator costs no more CPU per
 * request than autocannon (bench/load-generator.ts).
 */
import {
  createHistogram,
  monitorEventLoopDelay,
  performance,
  type RecordableHistogram,
} from 'node:perf_hooks';
import { LeanHttpClient } from './http-client.js';
import { BadRequestError } from '../errors.js';
import { LoadMetrics, type Summary } from './metrics.js';
import { ArrivalSchedule, type RateStage } from './schedule.js';

export interface ReadOptions {
  url: string;
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** One body, or a list sent in turn. */
  body?: string | readonly string[] | undefined;
  /** Open model: the arrival schedule. */
  stages?: readonly RateStage[] | undefined;
  /** Closed model: this many loops for `durationMs`. */
  closed?: { concurrency: number; durationMs: number } | undefined;
  /** Keep-alive connections to open at most (default 100). */
  connections?: number | undefined;
  /** Requests in flight (sent or queued) above which new sends are dropped (default 20,000). */
  maxInFlight?: number | undefined;
  /** Per-request timeout, counted as an error (default 10 s). */
  timeoutMs?: number | undefined;
  /**
   * How far ahead of their due times requests may leave, so that one wake-up sends several
   * (ms). Default: adaptive, about {@link SEND_BATCH} arrivals' worth at the current rate,
   * between 0.5 and 50 ms (40 ms at 500/s, 10 ms at 2,000/s, 4 ms at 5,000/s), never into the
   * next second of the schedule. 0.5 gives the finest spacing,
   * at about twice the CPU per request at 2,000/s.
   */
  sendWindowMs?: number | undefined;
  /** A send later than this after its scheduled time counts as late (default 10 ms). */
  lateThresholdMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Bucket size of the metrics (default 1 s); the runner uses 100 ms to react within 250 ms. */
  bucketMs?: number | undefined;
  /** Called once the metrics exist, so a caller can read live windows while the load runs. */
  onStart?: ((metrics: LoadMetrics) => void) | undefined;
  /** Called after each whole second with that second's summary (live thresholds, progress). */
  onSecond?: ((second: number, summary: Summary) => void) | undefined;
}

/**
 * Requests one wake-up aims to send. Going to sleep and waking up again costs far more CPU
 * than a request (≈ 30–40 µs against ≈ 20 µs on the bench's VM), and the answers to a batch
 * mostly arrive together, so a generator that wakes for every request costs twice what one
 * that sends in batches does (BENCHMARKS.md, "The load generator"). Sending what is due within
 * the next few milliseconds in one go amortizes it; a request that leaves early is timed from
 * its send, so latencies stay true, and the rate over any interval longer than the window is
 * exact. The price: the target sees small bursts (20 requests at once) instead of evenly
 * spaced ones, which adds a little queueing to what it answers (p50 ≈ 0.33 ms instead of
 * ≈ 0.20 ms on the bench's trivial server).
 */
export const SEND_BATCH = 20;
const MIN_SEND_WINDOW_MS = 0.5;
/**
 * Never send more than this ahead of time, whatever the rate: the open model's resolution. It
 * was 10 ms, which at 500/s made a wake-up send 5 requests, not 20, and cost 1.2–1.4 ×
 * autocannon's CPU per request (issue #22). A window never reaches into the next second of the
 * schedule (see {@link runLoad}), so a wider one cannot move requests from one second to another.
 */
const MAX_SEND_WINDOW_MS = 50;

/**
 * How far ahead of `now` (ms) a wake-up sends: `fixedWindow` when given, else about
 * {@link SEND_BATCH} arrivals at the current gap between arrivals, within 0.5–50 ms.
 */
export function sendHorizon(now: number, gap: number, fixedWindow?: number): number {
  return (
    now +
    (fixedWindow ?? Math.min(MAX_SEND_WINDOW_MS, Math.max(MIN_SEND_WINDOW_MS, gap * SEND_BATCH)))
  );
}

export interface LoadHealth {
  /**
   * Event-loop delay of the generator's process while it ran: in the open model, how late its
   * send timer fired (ms); in the closed model, the intervals of a 10 ms probe timer
   * (`monitorEventLoopDelay`, ≈ 10 ms when idle).
   */
  event_loop_p99_ms: number;
  event_loop_max_ms: number;
  late: number;
  dropped: number;
  /** Sends per second actually achieved against the target. */
  achieved_rate: number;
  target_rate: number | undefined;
  trustworthy: boolean;
  problems: string[];
}

export interface LoadReport {
  model: 'open' | 'closed';
  url: string;
  method: string;
  duration_s: number;
  total: Summary;
  series: (Summary & { second: number })[];
  health: LoadHealth;
}

export async function runLoad(options: ReadOptions): Promise<LoadReport> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new BadRequestError(`"${options.url}" is not a URL`, {
      hint: 'e.g. http://127.0.0.1:3000/health',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BadRequestError(`unsupported URL scheme ${url.protocol}`);
  const connections = options.connections ?? 100;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const method = (options.method ?? 'GET').toUpperCase();
  const bodies =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? [options.body]
        : options.body;
  const client = new LeanHttpClient({
    url,
    method,
    headers: options.headers,
    bodies,
    connections,
    timeoutMs,
  });
  // One abort listener for the whole run (not one per request): stop sending, drop the sockets.
  const onAbort = (): void => client.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The open model's own send timer measures how late the loop runs (recorded in `tick`); a
  // probe timer of its own would wake the process 100 times a second for nothing.
  const lag: RecordableHistogram | ReturnType<typeof monitorEventLoopDelay> = options.closed
    ? monitorEventLoopDelay({ resolution: 10 })
    : createHistogram();
  if ('enable' in lag) lag.enable();
  const start = performance.now();
  const metrics = new LoadMetrics(start, options.bucketMs ?? 1000);
  options.onStart?.(metrics);
  let inFlight = 0;

  // One completion callback per request, no promise and no response object: see http-client.ts.
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const send = (fromAbs: number): void => {
    inFlight++;
    outstanding++;
    const id = metrics.began(fromAbs);
    client.request((status, error) => {
      inFlight--;
      outstanding--;
      metrics.settled(id);
      if (!(error && options.signal?.aborted)) {
        const now = performance.now();
        metrics.completed(now, now - fromAbs, status, error?.code === 'UND_ERR_HEADERS_TIMEOUT');
      }
      if (outstanding === 0) drained?.();
    });
  };
  const allSettled = (): Promise<void> =>
    outstanding === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));

  // Live per-second callbacks.
  let reported = 0;
  const ticker = options.onSecond
    ? setInterval(() => {
        const current = Math.floor((performance.now() - start) / 1000);
        while (reported < current) {
          options.onSecond!(reported, metrics.window(reported, reported + 1));
          reported++;
        }
      }, 250)
    : undefined;

  let targetRate: number | undefined;
  let durationMs: number;
  try {
    if (options.closed) {
      durationMs = options.closed.durationMs;
      const deadline = start + durationMs;
      const loops = Array.from({ length: options.closed.concurrency }, async () => {
        while (performance.now() < deadline && !options.signal?.aborted) {
          const due = performance.now();
          metrics.scheduled(due, false);
          await new Promise<void>((resolve) => {
            inFlight++;
            const id = metrics.began(due);
            client.request((status, error) => {
              inFlight--;
              metrics.settled(id);
              if (!(error && options.signal?.aborted)) {
                const now = performance.now();
                metrics.completed(
                  now,
                  now - due,
                  status,
                  error?.code === 'UND_ERR_HEADERS_TIMEOUT',
                );
              }
              resolve();
            });
          });
        }
      });
      await Promise.all(loops);
    } else {
      const stages = options.stages;
      if (!stages || stages.length === 0)
        throw new BadRequestError('no rate given', { hint: 'e.g. --rate 100/s --duration 30s' });
      const schedule = new ArrivalSchedule(stages);
      durationMs = schedule.durationMs;
      targetRate = schedule.expected / (durationMs / 1000);
      const lateMs = options.lateThresholdMs ?? 10;
      const maxInFlight = options.maxInFlight ?? 20_000;
      await new Promise<void>((resolve) => {
        let next = schedule.next();
        // Gap between the last two arrivals: the current rate, ramps included.
        let gap = 0;
        // When the send timer was due to fire (ms since start), to record how late it did.
        let wakeAt: number | undefined;
        // Node's timers have millisecond granularity, and spinning on setImmediate to hit each
        // due time would burn a core: each wake-up sends everything due within the send window
        // (see SEND_BATCH), then sleeps until the next request is due.
        const fixedWindow = options.sendWindowMs;
        const tick = (): void => {
          if (options.signal?.aborted) {
            resolve();
            return;
          }
          const now = performance.now() - start;
          if (wakeAt !== undefined && 'record' in lag)
            lag.record(Math.max(1, Math.round((now - wakeAt) * 1e6)));
          const horizon = sendHorizon(now, gap, fixedWindow);
          // Never ahead into the next second of the schedule: each second's requests leave
          // within that second, so the rate per second holds at the wire, not only by due time.
          const secondEnd = (Math.floor(now / 1000) + 1) * 1000;
          while (next !== undefined && next <= horizon && next < secondEnd) {
            const dueAbs = start + next;
            if (inFlight >= maxInFlight) metrics.dropped(dueAbs);
            else {
              metrics.scheduled(dueAbs, now - next > lateMs);
              // Early (within the window): timed from the send, so latencies are never
              // shortened. Late: timed from the due time, so the lateness is not hidden.
              const sentAt = performance.now();
              send(dueAbs < sentAt ? dueAbs : sentAt);
            }
            const following = schedule.next();
            if (following !== undefined) gap = following - next;
            next = following;
          }
          if (next === undefined) {
            resolve();
            return;
          }
          const at = performance.now() - start;
          const delay = Math.max(1, Math.floor(next - at));
          wakeAt = at + delay;
          setTimeout(tick, delay);
        };
        tick();
      });
      if (options.signal?.aborted) client.close();
      await allSettled();
    }
  } finally {
    if (ticker) clearInterval(ticker);
    options.signal?.removeEventListener('abort', onAbort);
    if ('disable' in lag) lag.disable();
    client.close();
  }
  const elapsedS = (performance.now() - start) / 1000;
  // Stopped early (the runner stops its load when the run ends): rates are over the real time.
  if (options.signal?.aborted) durationMs = Math.min(durationMs, elapsedS * 1000);
  if (options.onSecond) {
    // Seconds of the schedule, plus one for answers that arrived after it, if there were any.
    const last = Math.min(Math.ceil(elapsedS), metrics.secondCount);
    while (reported < last) {
      options.onSecond(reported, metrics.window(reported, reported + 1));
      reported++;
    }
  }
  const total = metrics.whole(durationMs / 1000);
  const sent = metrics.totals.scheduled;
  const achieved = sent / (durationMs / 1000);
  const problems: string[] = [];
  const lagP99 = lag.count > 0 ? lag.percentile(99) / 1e6 : 0;
  if (metrics.totals.dropped > 0)
    problems.push(
      `${metrics.totals.dropped} request(s) dropped at the in-flight cap: the target could not keep up, or the cap is too low`,
    );
  if (targetRate !== undefined && sent > 0 && metrics.totals.late / sent > 0.01) {
    problems.push(
      `${((metrics.totals.late / sent) * 100).toFixed(1)}% of sends left late: the load generator could not hold the rate`,
    );
  }
  if (lagP99 > 50)
    problems.push(`event-loop lag p99 ${lagP99.toFixed(0)} ms in the load generator`);
  return {
    model: options.closed ? 'closed' : 'open',
    url: options.url,
    method,
    duration_s: durationMs / 1000,
    total,
    series: metrics.series(),
    health: {
      event_loop_p99_ms: Math.round(lagP99 * 10) / 10,
      event_loop_max_ms: lag.count > 0 ? Math.round((lag.max / 1e6) * 10) / 10 : 0,
      late: metrics.totals.late,
      dropped: metrics.totals.dropped,
      achieved_rate: Math.round(achieved * 10) / 10,
      target_rate: targetRate === undefined ? undefined : Math.round(targetRate * 10) / 10,
      trustworthy: problems.length === 0,
      problems,
    },
  };
}
