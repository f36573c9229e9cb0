/**
 * The machine-wide registry of runs: what lets `faultline halt` and `faultline recover`, started
 * in any directory, find every experiment running on this machine and every run that died with
 * its faults in place.
 *
 * A run's journal lives in its project (`.faultline/runs/` of the directory it was started in),
 * which a kill switch started elsewhere cannot guess. So each run also writes a small
 * registration into one directory every faultline on the machine knows: `$FAULTLINE_STATE_DIR`
 * when set, else `$XDG_STATE_HOME/faultline/runs`, else `~/.local/state/faultline/runs`. It names
 * the runner (pid and the process's start time, so a reused pid is not taken for the runner), the
 * directory it ran in, where its journal is, the experiment's title and when it started.
 *
 * The registration is removed when the run ends with every fault removed, and left behind when
 * the runner dies or leaves a fault it could not remove — that is when `recover` needs it. With
 * `$FAULTLINE_STATE_DIR` set, journals are kept in that same directory (docs/experiments.md):
 * there a journal is its own registration, and no separate file is written.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The marker and version of a registration file (a journal has none). */
export const REGISTRATION_FORMAT = 'faultline-run-registration/1';

export interface Registration {
  format: typeof REGISTRATION_FORMAT;
  run_id: string;
  pid: number;
  /** The runner's start time (src/shared/process-identity.ts), when it could be read. */
  pid_start?: string | undefined;
  /** The directory the run was started in. */
  cwd: string;
  /** The run's live journal (absolute). */
  journal: string;
  title: string;
  started_at: string;
}

/** The machine-wide registry: `$FAULTLINE_STATE_DIR`, `$XDG_STATE_HOME/faultline/runs` or `~/.local/state/faultline/runs`. */
export function registryDir(env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env['FAULTLINE_STATE_DIR'];
  if (explicit) return resolve(explicit);
  const xdg = env['XDG_STATE_HOME'];
  // The XDG spec: a relative path is invalid and must be ignored.
  const base = xdg && xdg.startsWith('/') ? xdg : join(env['HOME'] || homedir(), '.local', 'state');
  return join(base, 'faultline', 'runs');
}

/** The file a run's registration is written to. */
export function registrationPath(dir: string, runId: string): string {
  return join(dir, `${runId}.run.json`);
}

/**
 * Writes the registration (atomically, synchronously: it is on disk before any fault is) and
 * returns its path; undefined when the journal is already in the registry (its own
 * registration). Throws when the directory cannot be written: a run the kill switch cannot see
 * must not start.
 */
export function register(
  dir: string,
  registration: Omit<Registration, 'format'>,
): string | undefined {
  const journal = resolve(registration.journal);
  if (resolve(journal, '..') === resolve(dir)) return undefined;
  mkdirSync(dir, { recursive: true });
  const path = registrationPath(dir, registration.run_id);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `${JSON.stringify({ format: REGISTRATION_FORMAT, ...registration, journal }, null, 2)}\n`,
  );
  renameSync(tmp, path);
  return path;
}

/** Removes a registration; true when it is gone (or never was). */
export function unregister(path: string): boolean {
  try {
    rmSync(path, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** Every registration in the registry, with its file; files that are not registrations are skipped. */
export function readRegistrations(dir: string): { path: string; registration: Registration }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.run.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { path: string; registration: Registration }[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    try {
      const read = JSON.parse(readFileSync(path, 'utf8')) as Partial<Registration> | null;
      if (
        read?.format !== REGISTRATION_FORMAT ||
        typeof read.pid !== 'number' ||
        typeof read.journal !== 'string' ||
        typeof read.run_id !== 'string'
      )
        continue;
      out.push({ path, registration: read as Registration });
    } catch {
      // half-written by something else, or not ours
    }
  }
  return out;
}
