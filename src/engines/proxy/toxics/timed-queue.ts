/**
 * A stage base for toxics that hold chunks until a due time (latency, bandwidth, slicer).
 *
 * ```
 *   write(chunk) ──▶ queue [ {chunk, due}, {chunk, due}, {END, due} ] ──(due ≤ now)──▶ next
 * ```
 *
 * Entries leave strictly in order. One timer per stage, armed for the head's due time. Node's
 * timers have millisecond granularity and tend to fire up to a millisecond late, so the last
 * millisecond before a due time is waited out with `setImmediate` turns: this is what keeps a
 * 50 ms latency toxic within ±1 ms at p50. Every tick releases *all* entries that are due, so a
 * late timer never lowers a throttled rate (the bandwidth toxic keeps a virtual clock instead
 * of restarting from "now").
 */
import { performance } from 'node:perf_hooks';
import { MAX_TIMER_MS } from '../../../shared/timer-bounds.js';
import type { StageContext, StageSink, ToxicStage } from './toxic.js';

interface Entry {
  /** `null` marks EOF. */
  chunk: Buffer | null;
  due: number;
}

/** Below this many milliseconds before the due time, we spin on setImmediate instead of a timer. */
const SPIN_WINDOW_MS = 1.5;

export abstract class TimedQueueStage implements ToxicStage {
  next: StageSink;
  protected readonly ctx: StageContext;
  protected readonly queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** After drain() the stage is a plain pass-through. */
  protected passthrough = false;
  private disposed = false;
  /** Due time of the last queued entry: entries never overtake each other. */
  protected lastDue = 0;

  constructor(next: StageSink, ctx: StageContext) {
    this.next = next;
    this.ctx = ctx;
  }

  /** Once drained the stage passes data straight on; otherwise the subclass queues it. */
  write(chunk: Buffer): void {
    if (this.passthrough) {
      this.next.write(chunk);
      return;
    }
    this.ctx.touch(chunk.length);
    this.schedule(chunk);
  }

  /** Queues a chunk (already counted as touched) with `enqueue`, at the toxic's due time(s). */
  protected abstract schedule(chunk: Buffer): void;

  end(): void {
    if (this.passthrough) {
      this.next.end();
      return;
    }
    this.enqueue(null, Math.max(this.lastDue, performance.now()));
  }

  /** Number of entries waiting. */
  protected get pending(): number {
    return this.queue.length - this.head;
  }

  /** Queues a chunk (or EOF) to leave at `due` (performance.now() milliseconds). */
  protected enqueue(chunk: Buffer | null, due: number): void {
    const at = Math.max(due, this.lastDue);
    this.lastDue = at;
    this.queue.push({ chunk, due: at });
    if (chunk) this.ctx.hold(chunk.length);
    if (this.pending === 1) this.arm();
  }

  /** Re-times every waiting entry; used when attributes change on a live connection. */
  protected retime(dueOf: (entry: { chunk: Buffer | null }, previousDue: number) => number): void {
    this.cancel();
    let last = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const entry = this.queue[i]!;
      entry.due = Math.max(dueOf(entry, last), last);
      last = entry.due;
    }
    this.lastDue = last;
    if (this.pending > 0) this.arm();
  }

  /** Stops releasing entries until `arm()` is called again (bandwidth rate 0 stalls). */
  protected cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  protected arm(): void {
    if (this.disposed || this.pending === 0 || this.timer || this.immediate) return;
    const due = this.queue[this.head]!.due;
    // A stalled entry (bandwidth rate 0) waits for update() or drain(), never for a timer:
    // setTimeout(Infinity) would fire after 1 ms and print a TimeoutOverflowWarning.
    if (!Number.isFinite(due)) return;
    const wait = due - performance.now();
    if (wait <= 0) {
      this.immediate = setImmediate(this.tick);
    } else if (wait <= SPIN_WINDOW_MS) {
      this.immediate = setImmediate(this.tick);
    } else {
      // latency + jitter may exceed one timer's reach: wake at the bound, tick re-arms.
      const delay = Math.min(Math.floor(wait - SPIN_WINDOW_MS + 1), MAX_TIMER_MS);
      this.timer = setTimeout(this.tick, delay);
    }
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    const now = performance.now();
    while (this.pending > 0 && this.queue[this.head]!.due <= now) {
      this.releaseHead();
      if (this.disposed) return;
    }
    this.compact();
    this.arm();
  };

  private releaseHead(): void {
    const entry = this.queue[this.head]!;
    this.queue[this.head] = undefined as unknown as Entry;
    this.head++;
    if (entry.chunk) {
      this.ctx.release(entry.chunk.length);
      this.next.write(entry.chunk);
    } else {
      this.next.end();
    }
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    } else if (this.pending === 0) {
      this.queue.length = 0;
      this.head = 0;
    }
  }

  drain(): void {
    this.cancel();
    this.passthrough = true;
    while (this.pending > 0 && !this.disposed) this.releaseHead();
    this.compact();
  }

  dispose(): void {
    this.disposed = true;
    this.cancel();
    for (let i = this.head; i < this.queue.length; i++) {
      const chunk = this.queue[i]?.chunk;
      if (chunk) this.ctx.release(chunk.length);
    }
    this.queue.length = 0;
    this.head = 0;
  }
}
