/**
 * `faultline halt`: the kill switch. Removes every fault of every experiment running on this
 * machine, at once, without waiting for the runs to notice (Gremlin's halt-all).
 *
 * For each run journal in the state directory whose runner is alive: faults on remote servers
 * are removed directly through their API and paused processes resumed (the runner may be stuck);
 * then the runner gets SIGTERM, which makes it remove what only it can reach (its in-process
 * proxies), run its rollbacks and end `interrupted`. Runs that are already dead are left to
 * `faultline recover`, which halt runs too.
 */
import { ProxyApiClient } from '../faults/control-api/client.js';
import { isAlive, readJournals, recover, type RecoveredFault } from '../runner/recover.js';
import { removeRemoteFault, resumeProcess } from '../targets/fault-driver.js';
import type { Journal } from '../runner/journal.js';

export interface HaltResult {
  runs: { run: string; pid: number; title: string; signalled: boolean; exited: boolean }[];
  faults: { run: string; fault: string; target: string; result: 'removed' | 'left-to-runner' | 'failed'; error?: string | undefined }[];
  recovered: RecoveredFault[];
}

export async function halt(dir: string, options: { token?: string | undefined; waitMs?: number | undefined; signal?: AbortSignal | undefined } = {}): Promise<HaltResult> {
  const result: HaltResult = { runs: [], faults: [], recovered: [] };
  const live = (await readJournals(dir))
    .map(({ journal }) => journal)
    .filter((journal) => journal.status === 'running' && journal.faultline.pid !== process.pid && isAlive(journal.faultline.pid));

  // First the faults anyone can remove, all at once.
  result.faults.push(...(await removeReachableFaults(live, options)));

  // Then every runner is told to stop: it removes its in-process faults and ends interrupted.
  for (const journal of live) {
    let signalled = false;
    try {
      process.kill(journal.faultline.pid, 'SIGTERM');
      signalled = true;
    } catch {
      // gone meanwhile
    }
    result.runs.push({ run: journal.faultline.run_id, pid: journal.faultline.pid, title: String((journal.experiment as { title?: unknown })?.title ?? ''), signalled, exited: false });
  }
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  for (const run of result.runs) {
    while (isAlive(run.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    run.exited = !isAlive(run.pid);
  }
  // Whatever a runner that died could not remove.
  result.recovered = await recover(dir, { token: options.token, signal: options.signal });
  return result;
}

/**
 * The first half of a halt: removes at once, directly, every fault of these runs that does not
 * need its runner — remote proxy toxics through their server's API, paused processes resumed —
 * and reports in-process ones as left to the runner. Exported for the control room's HALT
 * button, which takes this same path for its own run before telling its runner to stop.
 */
export async function removeReachableFaults(journals: readonly Journal[], options: { token?: string | undefined; signal?: AbortSignal | undefined } = {}): Promise<HaltResult['faults']> {
  const out: HaltResult['faults'] = [];
  await Promise.all(
    journals.flatMap((journal) =>
      journal.faultline.faults
        .filter((f) => f.state === 'applied' || f.state === 'applying')
        .map(async (fault) => {
          const base = { run: journal.faultline.run_id, fault: fault.name, target: fault.target };
          try {
            if (fault.location.where === 'remote') {
              const client = new ProxyApiClient({ url: fault.location.server ?? 'http://127.0.0.1:8474', token: options.token, timeoutMs: 3_000 });
              await removeRemoteFault(client, fault.location, options.signal);
              out.push({ ...base, result: 'removed' });
            } else if (fault.location.where === 'process') {
              resumeProcess(fault.location);
              out.push({ ...base, result: 'removed' });
            } else {
              out.push({ ...base, result: 'left-to-runner' });
            }
          } catch (err) {
            out.push({ ...base, result: 'failed', error: err instanceof Error ? err.message : String(err) });
          }
        }),
    ),
  );
  return out;
}
