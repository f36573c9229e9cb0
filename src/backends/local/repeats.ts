/**
 * Faults repeated at an `every` interval in the runner's own process (redis-kill-clients,
 * rabbitmq-close-connections, pg-terminate): each round is an act that is not undone (a killed
 * connection, a terminated session), so nothing has to outlive the runner: a dead runner simply
 * repeats nothing more, and the lease bounds the repetition of a live one. One implementation
 * for every family, so they all keep the same rules: never two rounds of a fault at once, a
 * failed round (the server restarting) retried at the next tick, no round after the deadline,
 * and removal waits for the round in progress before it says the fault is gone.
 */
import { parseDuration } from '../../experiment/duration.js';

interface Repeat {
  timer: NodeJS.Timeout;
  running?: Promise<void> | undefined;
}

export interface RepeatOptions {
  /** The fault's `every` (a duration); none: nothing is repeated. */
  every: string | undefined;
  /** Never more often than this (ms), whatever `every` says. */
  minMs: number;
  /** The lease's end (epoch ms): no round starts after it. */
  until: number;
}

/** The repetitions in progress of one driver, by fault tag. */
export class Repeats {
  private readonly byTag = new Map<string, Repeat>();

  /**
   * Runs `round` every `options.every` until `options.until`. A round's failure is swallowed
   * (the next tick retries); the timer does not keep the process alive.
   */
  start(tag: string, options: RepeatOptions, round: () => Promise<void>): void {
    const every = options.every ? parseDuration(options.every) : undefined;
    if (every === undefined) return;
    const interval = Math.max(options.minMs, every);
    const repeat: Repeat = {
      timer: setInterval(() => {
        if (Date.now() >= options.until) return this.clear(tag);
        if (repeat.running) return; // the previous round is still going
        repeat.running = round()
          .catch(() => undefined) // retried at the next tick
          .finally(() => (repeat.running = undefined));
      }, interval),
    };
    repeat.timer.unref();
    this.byTag.set(tag, repeat);
  }

  /** Whether `tag` is still being repeated. */
  has(tag: string): boolean {
    return this.byTag.has(tag);
  }

  /** Stops repeating `tag`, once the round in progress (if any) has ended. */
  async stop(tag: string): Promise<void> {
    await this.byTag.get(tag)?.running;
    this.clear(tag);
  }

  /** Stops every repetition at once (the driver is disposed). */
  stopAll(): void {
    for (const tag of [...this.byTag.keys()]) this.clear(tag);
  }

  private clear(tag: string): void {
    const repeat = this.byTag.get(tag);
    if (repeat) clearInterval(repeat.timer);
    this.byTag.delete(tag);
  }
}
