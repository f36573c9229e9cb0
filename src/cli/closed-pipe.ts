/**
 * Output that survives a closed pipe. `faultline schema | head` closes the read end after ten
 * lines; the next write fails with EPIPE, and an 'error' event nobody listens to ends the
 * process with a stack trace. A command whose reader went away has nothing left to say: its
 * later writes are dropped and it finishes as it would have (a run still removes its faults
 * and writes its journal, which a crash on a write would skip).
 */
import type { Writable } from 'node:stream';

/** Errors a write to a closed pipe raises, first EPIPE, then "destroyed" on later writes. */
const CLOSED = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * Makes `stream` drop output once its reader is gone instead of throwing. Any other write error
 * (a full disk behind a redirect) is reported once on `report`, never as a stack trace.
 */
export function survivePipeClose(stream: Writable, report?: (message: string) => void): void {
  let reported = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== undefined && CLOSED.has(err.code)) return;
    if (reported) return;
    reported = true;
    report?.(`faultline: cannot write the output: ${err.message}`);
  });
}
