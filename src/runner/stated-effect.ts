/**
 * A fault's stated effect (`shows:` on a fault step): the experiment's own word for what the
 * fault does to the system, checked while the fault is applied. It is the proof of efficacy for
 * a fault whose target cannot count what it touched (a remote Toxiproxy, a cluster fault whose
 * pods cannot be seen), and the stricter proof for one that can: a proxy can count connections
 * it delayed while the service, behind a cache, never slowed down — the stated effect says
 * whether the fault bit *as the experiment meant it to*.
 *
 * The check runs back to back (at most every 250 ms) from the moment the fault is applied until
 * it passes once or the fault is removed; a check still running at removal is aborted, so the
 * removal is never held up by it.
 */
import { performance } from 'node:perf_hooks';
import type { FaultEvidence } from '../backends/planned-fault.js';
import { sleep } from '../shared/wait.js';

export const STATED_EFFECT_INTERVAL_MS = 250;

export interface StatedEffectResult {
  name: string;
  /** Milliseconds from the fault applied to the first check that passed; undefined: never. */
  seenAfterMs: number | undefined;
  /** Checks run (a check aborted by the removal is not counted). */
  checks: number;
  /** Why the last check did not pass. */
  last: string | undefined;
}

export class StatedEffectWatch {
  private readonly stopper = new AbortController();
  private readonly started = performance.now();
  private seenAfterMs: number | undefined;
  private checks = 0;
  private last: string | undefined;
  private readonly done: Promise<void>;

  /** `wrap` runs each check as faultline's own traffic, so the check is never counted as the service's. */
  constructor(
    private readonly evidence: FaultEvidence,
    signal: AbortSignal,
    wrap: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {
    const stop = AbortSignal.any([signal, this.stopper.signal]);
    this.done = this.watch(stop, wrap);
  }

  private async watch(
    stop: AbortSignal,
    wrap: <T>(fn: () => Promise<T>) => Promise<T>,
  ): Promise<void> {
    // A function, not the property: the check awaits in between, and the removal aborts meanwhile.
    const stopped = (): boolean => stop.aborted;
    while (!stopped()) {
      const t0 = performance.now();
      try {
        const verdict = await wrap(() => this.evidence.check(stop));
        if (stopped()) return;
        this.checks++;
        if (verdict.met) {
          this.seenAfterMs = performance.now() - this.started;
          return;
        }
        this.last = verdict.reason ?? 'not met';
      } catch (err) {
        if (stopped()) return;
        this.checks++;
        this.last = `could not run: ${err instanceof Error ? err.message : String(err)}`;
      }
      const rest = STATED_EFFECT_INTERVAL_MS - (performance.now() - t0);
      if (rest > 0) await sleep(rest, stop);
    }
  }

  /** Ends the watch (the fault is being removed) and says what it saw. */
  async stop(): Promise<StatedEffectResult> {
    this.stopper.abort();
    await this.done;
    return {
      name: this.evidence.name,
      seenAfterMs: this.seenAfterMs,
      checks: this.checks,
      last: this.last,
    };
  }
}
