/**
 * Everything a command touches of the outside world, bundled so that tests can run the CLI
 * in-process with their own streams, environment and abort signal (k6's GlobalState).
 */
import type { Writable } from 'node:stream';

export interface CliIo {
  /** Arguments after the program name. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: Writable;
  stderr: Writable;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop, clean up and return. */
  signal: AbortSignal;
  /** What the user types (`faultline gameday`'s operator console); absent: no input. */
  stdin?: (NodeJS.ReadableStream & { isTTY?: boolean | undefined }) | undefined;
}

/** Writes one line to a stream. */
export function println(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
