/**
 * Waiting, with an AbortSignal: a pause that ends early when the run stops, and a poll for
 * conditions that have no event (a non-child process exiting, a file appearing).
 */
/** Resolves after `ms`, or at once when `signal` aborts (rejecting only if `reject` is set). */
export function sleep(ms: number, signal: AbortSignal, reject = false): Promise<void> {
  return new Promise((resolve, rejectPromise) => {
    if (signal.aborted) {
      if (reject) rejectPromise(signal.reason);
      else resolve();
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      if (reject) rejectPromise(signal.reason);
      else resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits until `check()` is true or `ms` has passed; polls (a non-child's exit has no event). */
export async function waitFor(
  check: () => Promise<boolean>,
  ms: number,
  signal?: AbortSignal,
  intervalMs = 25,
): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) return false;
    if (signal?.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error('interrupted');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
