/**
 * Brings a proxy's live connections in line with its toxics a batch at a time, after the call
 * that changed them has returned.
 *
 * Adding or removing a toxic used to rewire every live connection inside the control-API call:
 * with a thousand streaming connections that was a thousand stage chains rebuilt, and on removal
 * whatever the removed stages held written out, before the call could answer (≈ 10–20 ms of a
 * 15–50 ms p99 under saturation, issue #22). Now a change only bumps the direction's version
 * ({@link Wiring}); each link compares versions before it handles its next chunk or EOF and
 * rewires itself then, so a toxic still acts on the very next byte. The sweep catches the links
 * that read nothing meanwhile (idle, or paused behind a stall), so that their timers start and
 * what they hold drains within a few loop turns: {@link SWEEP_BATCH} connections per turn.
 */
import type { StreamDirection } from './toxics/toxic.js';
import type { ToxicEntry } from './toxic-entry.js';

/** The toxics of one direction of a proxy, and a counter bumped whenever they change. */
export interface Wiring {
  readonly version: number;
  readonly toxics: readonly ToxicEntry[];
}

/** Connections rewired per loop turn by a sweep. */
export const SWEEP_BATCH = 64;

/** What the sweep needs from a connection. */
export interface Rewirable {
  rewire(direction?: StreamDirection): void;
}

export class RewireSweep {
  private queue: Rewirable[] = [];
  private next = 0;
  private direction: StreamDirection | undefined;
  private immediate: NodeJS.Immediate | undefined;

  /** Sweeps these connections for a change of `direction` (undefined: both). */
  start(connections: Iterable<Rewirable>, direction: StreamDirection | undefined): void {
    // A sweep still under way for the other direction now covers both.
    this.direction = this.immediate && this.direction !== direction ? undefined : direction;
    this.queue = [...connections];
    this.next = 0;
    this.immediate ??= setImmediate(this.step);
  }

  /** Drops what is still waiting (a proxy being deleted: its connections are closed). */
  stop(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.queue = [];
    this.next = 0;
  }

  private readonly step = (): void => {
    this.immediate = undefined;
    const until = Math.min(this.queue.length, this.next + SWEEP_BATCH);
    for (; this.next < until; this.next++) this.queue[this.next]!.rewire(this.direction);
    if (this.next < this.queue.length) this.immediate = setImmediate(this.step);
    else this.queue = [];
  };
}
