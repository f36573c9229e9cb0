// Waiting in tests, in one place: poll a condition until a deadline, or wait for a pattern in
// what a child (or an in-process CLI) prints. Each fails with what was awaited, how long, and
// what was seen, instead of a bare "timed out" or a test that hangs until the runner's timeout.
// (Production code has its own waits in src/shared/wait.ts; these are for tests only.)
import { StringDecoder } from 'node:string_decoder';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface WaitOptions {
  /** How long to wait before failing (default 10 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 25 ms). */
  intervalMs?: number;
  /**
   * A check that throws counts as "not yet" (a server still starting, a file not yet written);
   * the last error is quoted in the failure. Default false: a throwing check fails the wait at
   * once (so a check can end the wait early, e.g. when the process it watches has exited).
   */
  ignoreErrors?: boolean;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a truthy value (resolved with it) or `timeoutMs` passes (rejected
 * with "timed out after N ms waiting for WHAT"). The check runs at once, then every `intervalMs`.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const started = performance.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
    } catch (err) {
      if (!options.ignoreErrors) throw err;
      lastError = err;
    }
    if (performance.now() - started > timeoutMs) {
      const why =
        lastError === undefined
          ? ''
          : ` (last check failed: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await pause(intervalMs);
  }
}

export interface OutputWaitOptions {
  /** How long to wait before failing (default 30 s). */
  timeoutMs?: number;
  /** The wait fails as soon as this process has exited (and its output is read) without a match. */
  child?: ChildProcess | undefined;
  /** The wait fails as soon as this settles without a match (e.g. an in-process CLI run's promise). */
  ended?: Promise<unknown> | undefined;
}

export interface Output {
  /** Everything the streams carried so far, in arrival order. */
  text(): string;
  /**
   * Resolves with the first match of `pattern` (a string matches literally) in the text so far
   * or to come; rejects, quoting the output, on timeout or when the producer ends first.
   */
  waitFor(
    pattern: RegExp | string,
    what: string,
    options?: OutputWaitOptions,
  ): Promise<RegExpExecArray>;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Collects what `streams` carry (decoded as UTF-8, chunks split inside a character are fine). */
export function watchOutput(...streams: (Readable | null | undefined)[]): Output {
  let text = '';
  const listeners = new Set<() => void>();
  for (const stream of streams) {
    if (!stream) continue;
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer | string) => {
      text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (const listener of [...listeners]) listener();
    });
  }
  return {
    text: () => text,
    waitFor(pattern, what, options = {}) {
      const re = typeof pattern === 'string' ? new RegExp(escape(pattern)) : pattern;
      const timeoutMs = options.timeoutMs ?? 30_000;
      return new Promise<RegExpExecArray>((resolve, reject) => {
        // eslint-disable-next-line prefer-const -- finish() may run before the timer is set (the line was already seen), so it is declared first
        let timer: NodeJS.Timeout | undefined;
        const finish = (error?: Error, match?: RegExpExecArray): void => {
          listeners.delete(check);
          if (timer) clearTimeout(timer);
          options.child?.off('close', onEnd);
          if (error) reject(error);
          else resolve(match!);
        };
        function check(): boolean {
          const match = re.exec(text);
          if (match) finish(undefined, match);
          return Boolean(match);
        }
        const fail = (why: string): void =>
          finish(new Error(`${why} waiting for ${what} (${re}); output so far:\n${text}`));
        function onEnd(): void {
          // Whatever was printed just before the end is in by now (or after this turn for a
          // stream written in-process).
          setImmediate(() => {
            if (!check())
              fail(
                options.child
                  ? `the process exited (${options.child.exitCode ?? options.child.signalCode})`
                  : 'it ended',
              );
          });
        }
        if (check()) return;
        listeners.add(check);
        timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        const child = options.child;
        if (child) {
          // 'close': the process exited and its output streams are read to their end.
          if (child.exitCode !== null || child.signalCode !== null) {
            if (child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false)
              onEnd();
            else child.once('close', onEnd);
          } else child.once('close', onEnd);
        }
        options.ended?.then(onEnd, onEnd);
      });
    },
  };
}
