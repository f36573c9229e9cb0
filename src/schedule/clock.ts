/**
 * Time for the scheduler, injectable: the real clock, or a virtual one that jumps ahead at
 * every sleep so a test runs a whole day of schedule in seconds; a run in flight stops it (the
 * run takes its real time and no virtual time, so draws behind it are not skipped as busy).
 */
import { setImmediate as yieldNow } from 'node:timers/promises';
import { sleep } from '../shared/wait.js';

export interface Clock {
  now(): Date;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Work in flight (a run): a virtual clock stands still until it is over, as if it took no time. */
  track?(work: Promise<unknown>): void;
}

export const realClock: Clock = { now: () => new Date(), sleep: (ms, signal) => sleep(ms, signal) };

export class VirtualClock implements Clock {
  private t: number;
  constructor(start: Date) {
    this.t = start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  private readonly work = new Set<Promise<unknown>>();
  track(work: Promise<unknown>): void {
    this.work.add(work);
    void work.finally(() => this.work.delete(work)).catch(() => undefined);
  }
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (this.work.size > 0) {
      // Time stands still while a run is in flight (it ends, or the scheduler is stopped).
      const stopped = new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      await Promise.race([Promise.allSettled([...this.work]), stopped]);
    }
    this.t += ms;
    await yieldNow();
  }
}
