/**
 * Runs a local command for a probe or an action. An argv array runs without a shell; a string
 * runs through `/bin/sh -c` (Chaos Toolkit runs string arguments through a shell too). The
 * whole process group is killed on timeout or abort, so no child outlives its step.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ProbeError } from './probe-error.js';

export interface CommandSpec {
  /** argv (no shell) or a shell command line. */
  run: string | readonly string[];
  timeoutMs: number;
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
}

export interface CommandOutput {
  /** Exit code; 128 + signal number when killed by a signal. */
  status: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Output kept per stream; more is cut, so a chatty command cannot exhaust memory. */
const MAX_OUTPUT = 1024 * 1024;

export function runCommand(spec: CommandSpec, signal?: AbortSignal): Promise<CommandOutput> {
  const [file, args] =
    typeof spec.run === 'string'
      ? ['/bin/sh', ['-c', spec.run]]
      : [spec.run[0]!, spec.run.slice(1)];
  const start = performance.now();
  return new Promise<CommandOutput>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, killed as a whole
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    let stopped: 'timeout' | 'abort' | undefined;
    const kill = (why: 'timeout' | 'abort'): void => {
      stopped = why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill('timeout'), spec.timeoutMs);
    const onAbort = (): void => kill('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(
        new ProbeError(
          err.code === 'ENOENT'
            ? `command not found: ${file}`
            : err.code === 'EACCES'
              ? `no permission to run ${file}`
              : `cannot run ${file}: ${err.message}`,
          { hint: 'check the path, or that the command is installed and on PATH' },
        ),
      );
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (stopped === 'abort') {
        reject(signal?.reason);
        return;
      }
      if (stopped === 'timeout') {
        reject(
          new ProbeError(
            `${describe(spec.run)} took longer than ${spec.timeoutMs} ms and was killed`,
          ),
        );
        return;
      }
      resolve({
        status: code ?? 128 + signalNumber(sig),
        stdout,
        stderr,
        elapsedMs: performance.now() - start,
      });
    });
  });
}

function describe(run: string | readonly string[]): string {
  return typeof run === 'string' ? `"${run}"` : `"${run.join(' ')}"`;
}

function signalNumber(sig: NodeJS.Signals | null): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return sig ? (table[sig] ?? 0) : 0;
}
