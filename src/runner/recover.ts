/**
 * `faultline recover`: removes every fault that runs which died (kill -9, power loss, a CI job
 * cancelled) left behind, using the journals they wrote before applying each fault.
 *
 * A fault on an in-process proxy died with its runner's process; a fault on a remote server is
 * removed through its API (already gone — lease expired, server reset — counts as removed).
 * Runs whose process is still alive are left alone: they clean up after themselves.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProxyApiClient } from '../faults/control-api/client.js';
import { familyByName } from '../faults/local/families.js';
import { removeRemoteFault, resumeProcess, type FaultLocation } from '../targets/fault-driver.js';
import { writeJournal, type Journal } from './journal.js';

export interface RecoveredFault {
  run: string;
  journal: string;
  fault: string;
  target: string;
  result: 'removed' | 'gone-with-process' | 'failed' | 'skipped-live-run';
  error?: string | undefined;
}

/** The directory where live journals are kept: `$FAULTLINE_STATE_DIR` or `.faultline/runs`. */
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
      const journal = JSON.parse(await readFile(path, 'utf8')) as Journal;
      if (journal?.faultline?.faults) out.push({ path, journal });
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
  kubernetes?: ((location: FaultLocation, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

/** Removes one fault left on something that outlives its runner: a paused process, a cluster, a proxy server. */
async function removeLeftover(location: FaultLocation, options: RecoverOptions): Promise<void> {
  if (location.where === 'process') {
    resumeProcess(location);
    return;
  }
  if (location.where === 'local-fault') {
    const family = familyByName(location.family);
    if (!family) throw new Error(`a ${location.fault ?? 'local'} fault of an unknown family "${location.family ?? '?'}"`);
    await family.recover(location, options.signal);
    return;
  }
  if (location.where === 'kubernetes') {
    const r = location.resource;
    if (!options.kubernetes) throw new Error(`a chaos object on a cluster (${r?.kind ?? '?'} ${r?.namespace ?? '?'}/${r?.name ?? '?'}): run faultline recover --kubernetes`);
    await options.kubernetes(location, options.signal);
    return;
  }
  const client = new ProxyApiClient({ url: location.server ?? 'http://127.0.0.1:8474', token: options.token, timeoutMs: 5_000 });
  await removeRemoteFault(client, location, options.signal);
}

export async function recover(dir: string, options: RecoverOptions = {}): Promise<RecoveredFault[]> {
  const results: RecoveredFault[] = [];
  for (const { path, journal } of await readJournals(dir)) {
    const faults = journal.faultline?.faults ?? [];
    // A failed apply may still have reached its target (a timeout, an interruption).
    const open = faults.filter((f) => f.state === 'applying' || f.state === 'applied' || f.state === 'residue' || (f.state === 'failed' && !f.removed_at));
    if (open.length === 0) continue;
    const live = journal.status === 'running' && isAlive(journal.faultline.pid);
    for (const fault of open) {
      const base = { run: journal.faultline.run_id, journal: path, fault: fault.name, target: fault.target };
      if (live && fault.state !== 'residue') {
        results.push({ ...base, result: 'skipped-live-run' });
        continue;
      }
      if (fault.location.where === 'local') {
        // An in-process proxy dies with its runner: nothing is left to remove.
        fault.state = 'removed';
        fault.removed_at = new Date().toISOString();
        results.push({ ...base, result: 'gone-with-process' });
        continue;
      }
      try {
        await removeLeftover(fault.location, options);
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
        journal.faultline.reason = 'the runner died during the run; faults removed by faultline recover';
      }
      journal.faultline.recovered_at = new Date().toISOString();
      writeJournal(path, journal);
    }
  }
  return results;
}
