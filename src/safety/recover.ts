/**
 * `faultline recover`: removes every fault that runs which died (kill -9, power loss, a CI job
 * cancelled) left behind, using the journals they wrote before applying each fault.
 *
 * The runs are found in the machine-wide registry (src/safety/registry.ts), wherever they were
 * started, and in the journal directory of the current one. A fault on an in-process proxy died
 * with its runner's process; a fault on a remote server is removed through its API (already gone
 * — lease expired, server reset — counts as removed). Runs whose process is still alive — the
 * same pid *and* the same process start time — are left alone: they clean up after themselves.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FaultLocation, KubernetesLocation } from '../backends/location.js';
import { upgradeLocation } from '../backends/location-upgrade.js';
import { livesInRunner, removeJournaledFault as removeThroughBackend } from '../backends/remove.js';
import type { BackendRegistry } from '../backends/registry.js';
import { writeJournal, type Journal } from '../journal/journal.js';
import { isSameLiveProcess } from '../shared/process-identity.js';
import { readRegistrations, unregister, type Registration } from './registry.js';

export interface RecoveredFault {
  run: string;
  journal: string;
  fault: string;
  target: string;
  result: 'removed' | 'gone-with-process' | 'failed' | 'skipped-live-run';
  error?: string | undefined;
}

/**
 * The directory where live journals are kept: `$FAULTLINE_STATE_DIR` or `.faultline/runs` of the
 * project. (The machine-wide registry is `registryDir` of ./registry.ts: the same directory when
 * `$FAULTLINE_STATE_DIR` is set.)
 */
export function stateDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  return env['FAULTLINE_STATE_DIR'] ?? join(cwd, '.faultline', 'runs');
}

/** Whether a process exists (ours counts as alive). */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a journal's runner is still running: its run is `running` and its pid is the same live
 * process — the same start time when one was recorded (in the journal, else its registration), so
 * a pid now held by another process is a dead runner.
 */
export function runnerAlive(journal: Journal, registration?: Registration): boolean {
  return (
    journal.status === 'running' &&
    isSameLiveProcess(
      journal.faultline.pid,
      journal.faultline.pid_start ??
        (registration?.pid === journal.faultline.pid ? registration.pid_start : undefined),
    )
  );
}

/**
 * Which runs halt and recover act on: the journals of one directory (the project's
 * `.faultline/runs`, or `$FAULTLINE_STATE_DIR`) and every run registered machine-wide, narrowed
 * by run id (a prefix), runner pid, or the directory a run was started in.
 */
export interface RunScope {
  /** A directory of live journals (read as today: every journal in it). */
  journals: string;
  /** The machine-wide registry (src/safety/registry.ts); undefined: `journals` only. */
  registry?: string | undefined;
  /** Only the run whose id starts with this. */
  run?: string | undefined;
  /** Only the run whose runner had this pid. */
  pid?: number | undefined;
  /** Only the runs started in this directory (`--here`). */
  cwd?: string | undefined;
}

/** A run found in a scope: its journal, and its registration when it has one. */
export interface FoundRun {
  path: string;
  journal: Journal;
  /** The registration file that named it (to remove once nothing of the run is left). */
  registration?: { path: string; registration: Registration } | undefined;
}

/**
 * Every run of a scope, once each (a run both registered and in the journal directory is one),
 * oldest first. A registration whose journal is gone and whose runner is dead is stale: it is
 * removed, there is nothing left to find.
 */
export async function findRuns(scope: RunScope | string): Promise<FoundRun[]> {
  const s: RunScope = typeof scope === 'string' ? { journals: scope } : scope;
  const byPath = new Map<string, FoundRun>();
  for (const entry of await readJournals(s.journals)) byPath.set(resolve(entry.path), entry);
  if (s.registry) {
    for (const entry of await readJournals(s.registry))
      if (!byPath.has(resolve(entry.path))) byPath.set(resolve(entry.path), entry);
    for (const reg of readRegistrations(s.registry)) {
      const path = resolve(reg.registration.journal);
      const known = byPath.get(path);
      if (known) {
        known.registration = reg;
        continue;
      }
      const journal = await readJournal(path);
      if (journal) byPath.set(path, { path, journal, registration: reg });
      else if (!isSameLiveProcess(reg.registration.pid, reg.registration.pid_start))
        unregister(reg.path);
    }
  }
  const inScope = (run: FoundRun): boolean => {
    const f = run.journal.faultline;
    const id: unknown = f.run_id; // a journal on disk may lack it
    if (s.run !== undefined && !(typeof id === 'string' && id.startsWith(s.run))) return false;
    if (s.pid !== undefined && f.pid !== s.pid) return false;
    if (s.cwd !== undefined) {
      const cwd = run.registration?.registration.cwd ?? f.cwd;
      if (cwd === undefined) return resolve(run.path, '..') === resolve(s.journals);
      if (resolve(cwd) !== resolve(s.cwd)) return false;
    }
    return true;
  };
  // A journal on disk may lack any field (an older faultline's, or not quite one).
  return [...byPath.values()]
    .filter(inScope)
    .sort((a, b) => startOf(a).localeCompare(startOf(b)) || a.path.localeCompare(b.path));
}

/** When a found run started, '' when its journal does not say. */
function startOf(run: FoundRun): string {
  const start: unknown = run.journal.start;
  return typeof start === 'string' ? start : '';
}

/** One journal file, or undefined when it is missing or not a journal. */
export async function readJournal(path: string): Promise<Journal | undefined> {
  try {
    const read = JSON.parse(await readFile(path, 'utf8')) as JournalOnDisk | null;
    if (!read?.faultline?.faults) return undefined;
    const journal = read as Journal;
    for (const fault of journal.faultline.faults) fault.location = upgradeLocation(fault.location);
    return journal;
  } catch {
    return undefined;
  }
}

/** A JSON file of a state directory, before it is known to be a journal. */
type JournalOnDisk = Omit<Journal, 'faultline'> & {
  faultline?: Partial<Journal['faultline']> | null;
};

/** The run journals of a state directory, oldest first; files that are not journals are skipped. */
export async function readJournals(dir: string): Promise<{ path: string; journal: Journal }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { path: string; journal: Journal }[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    try {
      // Any JSON file, possibly a journal of an older faultline, or not a journal at all.
      const read = JSON.parse(await readFile(path, 'utf8')) as JournalOnDisk | null;
      if (!read?.faultline?.faults) continue;
      const journal = read as Journal;
      // Journals of older faultlines keep their locations' old shape.
      for (const fault of journal.faultline.faults)
        fault.location = upgradeLocation(fault.location);
      out.push({ path, journal });
    } catch {
      // not a journal, or half-written by something else
    }
  }
  return out;
}

export interface RecoverOptions {
  signal?: AbortSignal;
  token?: string | undefined;
  /**
   * Removes a fault that lives on a cluster (`faultline recover --kubernetes`); without it such
   * faults are reported as not removed, with the hint to pass --kubernetes.
   */
  kubernetes?:
    ((location: KubernetesLocation, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /** The target types' backends (default the registry). */
  backends?: BackendRegistry | undefined;
}

/** Removes one fault left on something that outlives its runner, through its backend. */
export function removeJournaledFault(
  location: FaultLocation,
  options: RecoverOptions,
): Promise<void> {
  return removeThroughBackend(location, options, options.backends);
}

/**
 * Recovers every dead run of `scope` (a directory of journals, or journals and the registry):
 * removes what it left, marks its journal, and removes its registration once nothing is left.
 */
export async function recover(
  scope: RunScope | string,
  options: RecoverOptions = {},
): Promise<RecoveredFault[]> {
  const results: RecoveredFault[] = [];
  for (const { path, journal, registration } of await findRuns(scope)) {
    const faults = journal.faultline.faults;
    const live = runnerAlive(journal, registration?.registration);
    const registered = registration?.path ?? journal.faultline.registration;
    // A failed apply may still have reached its target (a timeout, an interruption).
    const open = faults.filter(
      (f) =>
        f.state === 'applying' ||
        f.state === 'applied' ||
        f.state === 'residue' ||
        (f.state === 'failed' && !f.removed_at),
    );
    if (open.length === 0) {
      // Nothing left to remove: a dead run's registration has served its purpose.
      if (!live && registered && unregister(registered) && journal.faultline.registration) {
        journal.faultline.registration = undefined;
        writeJournal(path, journal);
      }
      continue;
    }
    for (const fault of open) {
      const base = {
        run: journal.faultline.run_id,
        journal: path,
        fault: fault.name,
        target: fault.target,
      };
      if (live && fault.state !== 'residue') {
        results.push({ ...base, result: 'skipped-live-run' });
        continue;
      }
      if (livesInRunner(fault.location, options.backends)) {
        // An in-process proxy or resolver dies with its runner: nothing is left to remove
        // (unless it runs in this very process, which its backend's recover handles).
        await removeThroughBackend(fault.location, options, options.backends).catch(
          () => undefined,
        );
        fault.state = 'removed';
        fault.removed_at = new Date().toISOString();
        results.push({ ...base, result: 'gone-with-process' });
        continue;
      }
      try {
        await removeJournaledFault(fault.location, options);
        fault.state = 'removed';
        fault.removed_at = new Date().toISOString();
        fault.error = undefined;
        results.push({ ...base, result: 'removed' });
      } catch (err) {
        fault.state = 'residue';
        fault.error = err instanceof Error ? err.message : String(err);
        results.push({ ...base, result: 'failed', error: fault.error });
      }
    }
    if (!live) {
      if (journal.status === 'running') {
        journal.status = 'aborted';
        journal.faultline.reason =
          'the runner died during the run; faults removed by faultline recover';
      }
      journal.faultline.recovered_at = new Date().toISOString();
      // Everything removed: the registration goes; a fault still in place keeps it, for the next recover.
      const failed = results.some((r) => r.journal === path && r.result === 'failed');
      if (!failed && registered && unregister(registered))
        journal.faultline.registration = undefined;
      writeJournal(path, journal);
    }
  }
  return results;
}
