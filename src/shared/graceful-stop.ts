/**
 * An abort reason that asks a run to stop gracefully: Chaos Toolkit's SIGUSR1. Passed as the
 * reason of the run's `signal` (`controller.abort(new GracefulStop('received SIGUSR1'))`), it
 * lets the activities in progress finish — an action half done is a state nobody planned for —
 * cuts their pauses short, starts no new step, then removes every fault and runs the rollbacks
 * by the strategy, as any interruption does. Every other reason stops the run at once.
 *
 * It is a reason rather than a second signal so that whatever already passes a run its signal
 * (the CLI, `AbortSignal.any` in the scheduler, a test framework's timeout) carries the request
 * through unchanged, and so that a command with nothing to finish gracefully (a proxy server, a
 * load run) simply stops, as it does for any abort.
 *
 * A graceful stop can be hurried: {@link GracefulStop.escalate} (the CLI calls it on a second
 * signal) turns it into an immediate stop. Faults are removed either way.
 */
export class GracefulStop extends Error {
  readonly #now = new AbortController();

  constructor(message = 'a graceful stop was asked for') {
    super(message);
    this.name = 'GracefulStop';
  }

  /** Aborts when the graceful stop is hurried into an immediate one. */
  get now(): AbortSignal {
    return this.#now.signal;
  }

  /** Stops at once: the activities in progress are interrupted too. */
  escalate(reason: string): void {
    if (!this.#now.signal.aborted) this.#now.abort(new Error(reason));
  }
}

/** The graceful stop a signal's reason carries, if it is one that has not been hurried. */
export function gracefulStopOf(signal: AbortSignal | undefined): GracefulStop | undefined {
  const reason: unknown = signal?.reason;
  return reason instanceof GracefulStop && !reason.now.aborted ? reason : undefined;
}
