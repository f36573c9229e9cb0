// `faultline` as a real child process, for the tests that kill a runner (SIGKILL, SIGINT) or run
// `faultline recover` / `halt` against the journals it left: the point of those tests is what
// survives the runner's process, so it must be a separate process, not the runner in-process.
// One copy here instead of one per fault family: when the CLI's "fault applied" line or the way
// the state directory is passed changes, the tests change in one place.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { watchOutput } from './wait-for.js';
import { entryArgs } from './entry.js';

export interface FaultlineChildOptions {
  /**
   * FAULTLINE_STATE_DIR of the child: where `run` journals and registers, and where `recover`
   * and `halt` look. Give it or `xdgStateHome`.
   */
  stateDir?: string;
  /**
   * XDG_STATE_HOME of the child. Without `stateDir` (no FAULTLINE_STATE_DIR), the child keeps
   * its journals in its cwd's `.faultline/runs` and registers its runs in
   * XDG_STATE_HOME/faultline/runs — faultline's defaults, in a directory of the test's own.
   */
  xdgStateHome?: string;
  /** Working directory of the child. */
  cwd: string;
  /**
   * FAULTLINE_LEASE_GRACE_SECONDS of a `run` child: seconds its faults' leases last past their
   * planned end (unset: the runner's 5), so a test waiting for a dead runner's lease to end a
   * fault does not wait out the grace.
   */
  leaseGraceSeconds?: number;
}

function childEnv(options: FaultlineChildOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['FAULTLINE_STATE_DIR'];
  if (options.stateDir === undefined && options.xdgStateHome === undefined)
    throw new Error('a faultline child needs stateDir or xdgStateHome: never the real registry');
  if (options.stateDir !== undefined) env['FAULTLINE_STATE_DIR'] = options.stateDir;
  if (options.xdgStateHome !== undefined) env['XDG_STATE_HOME'] = options.xdgStateHome;
  if (options.leaseGraceSeconds !== undefined)
    env['FAULTLINE_LEASE_GRACE_SECONDS'] = String(options.leaseGraceSeconds);
  return env;
}

export interface RunnerChild {
  child: ChildProcessWithoutNullStreams;
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
  /**
   * Resolves when the output shows '⚡' (the CLI's "fault applied" line), i.e. a fault is in
   * place and journaled; rejects, with the output, if the child exits first. Never an unhandled
   * rejection when nobody awaits it.
   */
  applied: Promise<void>;
  /** Resolves when the output matches `pattern`; rejects, with the output, if the child exits first. */
  waitForOutput(pattern: string | RegExp, what: string): Promise<void>;
}

/** Starts `faultline ARGS…` (typically `run FILE`) under tsx and watches for the first fault applied. */
export function startRunner(args: string[], options: FaultlineChildOptions): RunnerChild {
  const child = spawn(process.execPath, entryArgs('cli/main', ...args), {
    stdio: 'pipe',
    env: childEnv(options),
    cwd: options.cwd,
  });
  const output = watchOutput(child.stdout, child.stderr);
  const applied = output
    .waitFor('⚡', 'the runner to apply a fault', { child, timeoutMs: 120_000 })
    .then(() => undefined);
  applied.catch(() => undefined);
  return {
    child,
    output: output.text,
    applied,
    waitForOutput: (pattern, what) =>
      output.waitFor(pattern, what, { child, timeoutMs: 120_000 }).then(() => undefined),
  };
}

/**
 * Writes `doc` as DIR/NAME (titled NAME, `safety.maxDuration: 2m` unless the doc says
 * otherwise), starts `faultline run` on it as a child and resolves once its first fault is
 * applied. The caller owns the child (kill it, or let it run to its end).
 */
export async function runUntilApplied(
  name: string,
  doc: Record<string, unknown>,
  options: FaultlineChildOptions,
): Promise<ChildProcessWithoutNullStreams> {
  const file = join(options.cwd, name);
  await writeFile(file, stringify({ title: name, safety: { maxDuration: '2m' }, ...doc }));
  const { child, applied } = startRunner(['run', file], options);
  try {
    await applied;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

/** Resolves with the child's exit code once it has exited (at once if it already has). */
export async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** SIGKILLs a runner (no chance to clean up: what it leaves is what a crash leaves) and waits for it to be gone. */
export async function killRunner(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await exitCode(child);
}

/** Runs `faultline ARGS…` (e.g. `recover`, `halt`) to its end: its exit code, its stdout, and stdout + stderr. */
export async function runFaultline(
  args: string[],
  options: FaultlineChildOptions,
): Promise<{ code: number | null; stdout: string; output: string }> {
  const child = spawn(process.execPath, entryArgs('cli/main', ...args), {
    env: childEnv(options),
    cwd: options.cwd,
  });
  let stdout = '';
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    output += d;
  });
  child.stderr.on('data', (d: Buffer) => (output += d));
  // 'close', not 'exit': the streams are read to their end before the output is returned.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, output };
}
