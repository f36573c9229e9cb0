/**
 * Starting a plain process again as it was (restart-process on a `process` target, and
 * `faultline recover` finishing a restart a dead runner left half-done): same executable and
 * argv, working directory and environment, read from /proc before it was stopped. It starts
 * detached, in a session of its own, because it is the user's process, not the run's: it must
 * outlive faultline. Its output goes to a log file (the original's descriptors cannot be
 * recreated).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultError } from '../../errors.js';
import { readStat, type ProcessLaunch, type ProcessRef } from './proc.js';

export interface Relaunched extends ProcessRef {
  log: string;
}

export async function relaunch(launch: ProcessLaunch, tag: string): Promise<Relaunched> {
  const log = join(tmpdir(), `faultline-${tag}-${Date.now()}.log`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(launch.exe ?? launch.argv[0]!, launch.argv.slice(1), {
      argv0: launch.argv[0],
      cwd: launch.cwd,
      env: launch.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (err) =>
        reject(new FaultError(`could not start ${launch.argv.join(' ')} again: ${err.message}`)),
      );
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    const stat = await readStat(pid);
    return { pid, start: stat?.start ?? 0, log };
  } finally {
    closeSync(fd);
  }
}

/** A live process with exactly this command line, if any (a restart that already happened). */
export function findByCommandLine(argv: string[]): number | undefined {
  const wanted = argv.join('\0');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0$/, '');
      if (cmdline === wanted) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}
