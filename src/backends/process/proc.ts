/**
 * What the process family reads from Linux's /proc: a process's state (stopped or not), its
 * start time (so a pid recycled by another process is never signalled), its process group, and
 * its command line, working directory and environment (so it can be started again as it was).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { FaultError, UsageError } from '../../errors.js';
import type { Target } from '../../experiment/schema.js';
import { waitFor } from '../../shared/wait.js';

/** A process as faultline met it: the pid and its start time (clock ticks since boot). */
export interface ProcessRef {
  pid: number;
  start: number;
}

export interface ProcStat {
  /** R, S, D, T (stopped), t, Z, X… */
  state: string;
  ppid: number;
  pgid: number;
  start: number;
}

/** /proc/<pid>/stat, or undefined when there is no such process. */
export async function readStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    start: Number(fields[19]),
  };
}

/** True while `ref` is the same live process (not a zombie, not a recycled pid). */
export async function isSameProcess(ref: ProcessRef): Promise<boolean> {
  const stat = await readStat(ref.pid);
  return stat !== undefined && stat.start === ref.start && stat.state !== 'Z' && stat.state !== 'X';
}

/** True when the process is stopped by a signal (state T). */
export async function isStopped(pid: number): Promise<boolean> {
  return (await readStat(pid))?.state === 'T';
}

/** The live members of a process group (zombies excluded). */
export async function groupMembers(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readStat(Number(entry));
    if (stat && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X')
      out.push(Number(entry));
  }
  return out;
}

/** Everything needed to start a process again as it was. */
export interface ProcessLaunch {
  argv: string[];
  /** /proc/<pid>/exe, when still on disk (argv[0] may be a bare name or a lie). */
  exe?: string | undefined;
  cwd: string;
  env: Record<string, string>;
}

/** Reads argv, executable, working directory and environment of a live process (root for others' processes). */
export async function readLaunch(pid: number): Promise<ProcessLaunch> {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (argv.at(-1) === '') argv.pop();
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
    const env: Record<string, string> = {};
    for (const pair of environ) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const cwd = await readlink(`/proc/${pid}/cwd`);
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => undefined);
    if (argv.length === 0) throw new Error('it has no command line (a kernel thread or a zombie)');
    return { argv, exe: exe && !exe.endsWith(' (deleted)') ? exe : undefined, cwd, env };
  } catch (err) {
    throw new FaultError(
      `cannot read how process ${pid} was started: ${err instanceof Error ? err.message : String(err)}`,
      {
        hint: 'restart-process reads /proc/<pid>/{cmdline,cwd,environ}: run faultline as the process owner or as root',
      },
    );
  }
}

/** This process and its ancestors: never a target, whatever a pattern matches. */
async function ownLineage(): Promise<Set<number>> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    pid = (await readStat(pid))?.ppid ?? 0;
  }
  return out;
}

type ProcessTarget = Extract<Target, { type: 'process' }>;

/**
 * The processes a `process` target selects, refused with a plain error before anything is
 * applied when it selects none, or more than `maxProcesses` (the blast radius). faultline's own
 * process and its ancestors (the shell, the CI job) are never selected.
 */
export async function selectProcesses(spec: ProcessTarget, target: string): Promise<ProcessRef[]> {
  const at = `target "${target}"`;
  let pids: number[];
  if (spec.pid !== undefined) pids = [spec.pid];
  else if (spec.pidfile) {
    const text = await readFile(spec.pidfile, 'utf8').catch(() => {
      throw new UsageError(`${at}: cannot read pidfile ${String(spec.pidfile)}`, {
        hint: 'is the process running, and is this the path it writes?',
      });
    });
    const pid = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0)
      throw new UsageError(
        `${at}: pidfile ${spec.pidfile} holds no process id ("${text.trim().slice(0, 40)}")`,
      );
    pids = [pid];
  } else if (spec.match) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(spec.match);
    } catch (err) {
      throw new UsageError(
        `${at}: match is not a regular expression: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const own = await ownLineage();
    pids = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry) || own.has(Number(entry))) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      const stat = cmdline ? await readStat(Number(entry)) : undefined;
      if (stat && stat.state !== 'Z' && pattern.test(cmdline.replaceAll('\0', ' ').trim()))
        pids.push(Number(entry));
    }
    if (pids.length === 0)
      throw new UsageError(`${at}: no process matches /${spec.match}/`, {
        hint: 'start the process first, or correct the pattern (it is matched against the whole command line)',
      });
    if (pids.length > spec.maxProcesses) {
      throw new UsageError(
        `${at}: ${pids.length} processes match /${spec.match}/ (${pids.slice(0, 8).join(', ')}${pids.length > 8 ? ', …' : ''}) but maxProcesses is ${spec.maxProcesses}`,
        {
          hint: 'make the pattern more specific, use pid or pidfile, or raise maxProcesses if all of them are meant',
        },
      );
    }
  } else {
    throw new UsageError(`${at}: no process selected`, { hint: 'set pid, pidfile or match' });
  }
  const refs: ProcessRef[] = [];
  for (const pid of pids) {
    const stat = await readStat(pid);
    if (!stat || stat.state === 'Z')
      throw new UsageError(`${at}: no process with pid ${pid}`, {
        hint: 'start the process first, or correct pid/pidfile',
      });
    if (pid === process.pid || pid === 1)
      throw new UsageError(
        `${at}: pid ${pid} is ${pid === 1 ? 'init' : "faultline's own process"}`,
        { hint: 'choose another process' },
      );
    refs.push({ pid, start: stat.start });
  }
  return refs;
}

/** Sends a signal; a process that is gone is fine. */
export function signalPid(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Signals `ref` only if it is still the process faultline met (never a recycled pid). */
export async function signalRef(ref: ProcessRef, signal: NodeJS.Signals): Promise<boolean> {
  return (await isSameProcess(ref)) && signalPid(ref.pid, signal);
}

/**
 * Ends processes: `signal` to each, then SIGKILL to those still there after `graceMs` (SIGKILL
 * itself waits only for the kernel). Resolves when all are gone.
 */
export async function terminate(
  refs: ProcessRef[],
  signal: NodeJS.Signals,
  graceMs: number,
  abort?: AbortSignal,
): Promise<void> {
  for (const ref of refs) await signalRef(ref, signal);
  // A stopped process only acts on SIGTERM once it runs again.
  if (signal !== 'SIGKILL') for (const ref of refs) await signalRef(ref, 'SIGCONT');
  const allGone = async (): Promise<boolean> => {
    for (const ref of refs) if (await isSameProcess(ref)) return false;
    return true;
  };
  if (await waitFor(allGone, signal === 'SIGKILL' ? 10_000 : graceMs, abort)) return;
  for (const ref of refs) await signalRef(ref, 'SIGKILL');
  if (!(await waitFor(allGone, 10_000, abort)))
    throw new FaultError(`process(es) ${refs.map((r) => r.pid).join(', ')} did not die on SIGKILL`);
}
