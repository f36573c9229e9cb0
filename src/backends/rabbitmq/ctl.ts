/**
 * rabbitmqctl, run for one node (`-n`), quietly, with a timeout and an AbortSignal: the only
 * way to move a node's memory watermark (the management HTTP API has no endpoint for it).
 * Debian's wrapper runs it as the rabbitmq user, so it finds that user's Erlang cookie.
 */
import { execFile } from 'node:child_process';
import { FaultError } from '../../errors.js';

export interface CtlOptions {
  /** The Erlang node (`rabbit@host`); rabbitmqctl's own default when undefined. */
  node?: string | undefined;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/** Runs `rabbitmqctl [-n node] -q args…` and resolves its stdout; rejects with its own words. */
export function rabbitmqctl(args: readonly string[], options: CtlOptions = {}): Promise<string> {
  const argv = [...(options.node ? ['-n', options.node] : []), '-q', ...args];
  return new Promise((resolve, reject) => {
    execFile(
      'rabbitmqctl',
      argv,
      { timeout: options.timeoutMs ?? 30_000, signal: options.signal, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          return reject(
            new FaultError('rabbitmqctl is not installed (it comes with rabbitmq-server)'),
          );
        if (code === 'ABORT_ERR')
          return reject(
            options.signal?.reason instanceof Error
              ? options.signal.reason
              : new FaultError('interrupted'),
          );
        const said =
          stderr
            .trim()
            .split('\n')
            .filter((l) => l.trim())
            .slice(-3)
            .join(' ') || err.message;
        reject(
          new FaultError(
            `rabbitmqctl ${options.node ? `-n ${options.node} ` : ''}${args[0] ?? ''}: ${said}`,
          ),
        );
      },
    );
  });
}
