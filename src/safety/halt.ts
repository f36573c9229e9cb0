/**
 * `faultline halt`: the kill switch. Removes every fault of every experiment running on this
 * machine, at once, without waiting for the runs to notice (Gremlin's halt-all), and even when a
 * runner is stuck.
 *
 * For each run whose runner is alive — every run registered on the machine (src/safety/registry.ts)
 * and every journal of the current directory's state directory, narrowed by `RunScope`; alive
 * meaning the same pid and the same process start time:
 * 1. every fault that can be removed without its runner is removed directly, from its journaled
 *    location (`removeJournaledFault`, the same removal as `faultline recover`): paused processes
 *    resumed, fault agents ended, remote proxy toxics removed, chaos objects deleted (with a
 *    cluster remover). Only a toxic on an in-process proxy needs the runner: it lives in the
 *    runner's memory;
 * 2. the runner gets SIGTERM: it removes what only it can reach, runs its rollbacks and ends
 *    `interrupted`;
 * 3. a runner still alive after `waitMs` (default 30 s) is stuck: it gets SIGKILL, and its
 *    in-process proxies die with it;
 * 4. `faultline recover` runs: it marks the dead runs' journals and removes whatever is left
 *    (also of runs that were already dead).
 *
 * Every fault is reported with who removed it: halt, its runner (the runner's journal says
 * removed), gone with its runner (in-process, the runner ended), or not removed and why.
 */
import {
  findRuns,
  isAlive,
  readJournal,
  recover,
  runnerAlive,
  removeJournaledFault,
  type RecoveredFault,
  type RecoverOptions,
  type RunScope,
} from './recover.js';
import { readStat } from '../backends/process/proc.js';
import type { FaultLocation } from '../backends/location.js';
import { livesInRunner } from '../backends/remove.js';
import type { FaultRecord, Journal } from '../journal/journal.js';

export interface HaltOptions {
  token?: string | undefined;
  /** How long runners get to stop after SIGTERM before they are SIGKILLed (default 30 s). */
  waitMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Removes a chaos object on a cluster (as `recover --kubernetes`); without it the runner must. */
  kubernetes?: RecoverOptions['kubernetes'];
}

export interface HaltedRun {
  run: string;
  pid: number;
  title: string;
  signalled: boolean;
  /** Ended after SIGTERM, within the wait. */
  exited: boolean;
  /** Still alive after the wait, so SIGKILLed (`waitedMs` after SIGTERM). */
  killed: boolean;
  /** Alive at the end of the halt (SIGKILL failed: someone else's process). */
  alive: boolean;
  waitedMs: number;
}

export interface HaltedFault {
  run: string;
  fault: string;
  target: string;
  /**
   * `halt`: removed by halt itself; `runner`: the runner removed it (its journal says so);
   * `gone-with-runner`: an in-process fault whose runner ended; `not-removed`: see `error`.
   */
  by: 'halt' | 'runner' | 'gone-with-runner' | 'not-removed';
  /** For `gone-with-runner`: how the runner ended ("killed after 2 s", "it exited"); for `halt`, a note. */
  detail?: string | undefined;
  error?: string | undefined;
}

export interface HaltResult {
  runs: HaltedRun[];
  /** Every open fault of the runs that were alive, one entry each. */
  faults: HaltedFault[];
  /** What `recover` did for runs that were already dead when halt started. */
  recovered: RecoveredFault[];
}

/** The one thing halt knows about locations: a fault that lives in its runner's own process. */
function inProcess(location: FaultLocation): boolean {
  return livesInRunner(location);
}

const isOpen = (f: FaultRecord): boolean => f.state === 'applied' || f.state === 'applying';

/**
 * Alive and not a zombie (a killed runner whose parent has not reaped it yet is gone). A stat
 * that cannot be read is asked about again: the parent may have reaped the process between the
 * two looks (seen under load: a SIGKILLed runner reported "could not be killed"), and where there
 * is no /proc the signal test is all there is.
 */
async function running(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const stat = await readStat(pid);
  if (!stat) return isAlive(pid);
  return stat.state !== 'Z' && stat.state !== 'X';
}

/** "2 s", "500 ms". */
export function describeWait(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export async function halt(
  scope: RunScope | string,
  options: HaltOptions = {},
): Promise<HaltResult> {
  const waitMs = options.waitMs ?? 30_000;
  const live: { path: string; journal: Journal }[] = [];
  for (const entry of await findRuns(scope)) {
    const { journal } = entry;
    if (
      journal.faultline.pid !== process.pid &&
      runnerAlive(journal, entry.registration?.registration) &&
      (await running(journal.faultline.pid))
    )
      live.push(entry);
  }

  // 1. Every fault that does not need its runner, removed directly, all at once.
  const direct = await removeReachableFaults(
    live.map((l) => l.journal),
    options,
  );

  // 2. Every runner is told to stop: it removes its in-process faults and ends interrupted.
  const runs: HaltedRun[] = live.map(({ journal }) => {
    let signalled = false;
    try {
      process.kill(journal.faultline.pid, 'SIGTERM');
      signalled = true;
    } catch {
      // gone meanwhile
    }
    return {
      run: journal.faultline.run_id,
      pid: journal.faultline.pid,
      title: String((journal.experiment as { title?: unknown } | null | undefined)?.title ?? ''),
      signalled,
      exited: false,
      killed: false,
      alive: true,
      waitedMs: waitMs,
    };
  });
  const deadline = Date.now() + waitMs;
  for (const run of runs) {
    while ((await running(run.pid)) && Date.now() < deadline) await sleep(50);
  }

  // 3. A runner still alive is stuck: SIGKILL (a SIGSTOPped process dies from it too).
  for (const run of runs) {
    if (!(await running(run.pid))) {
      run.exited = true;
      run.alive = false;
      continue;
    }
    try {
      process.kill(run.pid, 'SIGKILL');
      run.killed = true;
    } catch (err) {
      // Gone between the check and the kill: it ended by itself, at the very end of the wait.
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') {
        run.exited = true;
        run.alive = false;
      }
      // EPERM: not ours to kill; it stays alive and is reported so.
    }
  }
  const killDeadline = Date.now() + 5_000;
  for (const run of runs) {
    if (!run.killed) continue;
    while ((await running(run.pid)) && Date.now() < killDeadline) await sleep(20);
  }
  for (const run of runs) if (!run.exited) run.alive = await running(run.pid);
  // recover counts a zombie as alive: give parents a moment to reap the runners that ended.
  const reapDeadline = Date.now() + 2_000;
  for (const run of runs) {
    while (!run.alive && isAlive(run.pid) && Date.now() < reapDeadline) await sleep(20);
  }

  // What each runner's journal says now (the runner marks what it removed).
  const after = new Map<string, Journal>();
  for (const { path, journal } of live) {
    const now = (await readJournal(path)) ?? journal;
    after.set(journal.faultline.run_id, now);
  }

  // 4. recover: marks the dead runs and removes whatever is left, of any run.
  const recovered = await recover(scope, {
    token: options.token,
    signal: options.signal,
    kubernetes: options.kubernetes,
  });
  const liveIds = new Set(live.map((l) => l.journal.faultline.run_id));
  const recoveredOf = (run: string, fault: string): RecoveredFault | undefined =>
    recovered.find((r) => r.run === run && r.fault === fault);

  const faults: HaltedFault[] = [];
  for (const { journal } of live) {
    const id = journal.faultline.run_id;
    const run = runs.find((r) => r.run === id)!;
    const now = after.get(id)!;
    const initial = journal.faultline.faults.filter(isOpen);
    // Faults the runner applied after halt read its journal are reported too.
    const later = now.faultline.faults.filter(
      (f) => isOpen(f) && !journal.faultline.faults.some((g) => g.name === f.name),
    );
    for (const fault of [...initial, ...later]) {
      const base = { run: id, fault: fault.name, target: fault.target };
      const removedDirectly = direct.find((d) => d.run === id && d.fault === fault.name);
      const record = now.faultline.faults.find((f) => f.name === fault.name);
      // A runner that ended but is not reaped yet is "live" to recover: nothing was done then.
      const recoveredFault = recoveredOf(id, fault.name);
      const again =
        recoveredFault?.result === 'skipped-live-run' && !run.alive ? undefined : recoveredFault;
      if (again?.result === 'failed' || again?.result === 'skipped-live-run') {
        // Still open after everything: whatever halt did first, it is not known to be gone.
        const why =
          again.result === 'failed' ? again.error : `its runner (pid ${run.pid}) is still alive`;
        faults.push({
          ...base,
          by: 'not-removed',
          error: [...new Set([removedDirectly?.error, why].filter(Boolean))].join('; '),
        });
      } else if (removedDirectly?.result === 'removed') {
        faults.push({ ...base, by: 'halt' });
      } else if (record?.state === 'removed' && !again) {
        faults.push({ ...base, by: 'runner' });
      } else if (inProcess(fault.location) && !run.alive) {
        faults.push({
          ...base,
          by: 'gone-with-runner',
          detail: run.killed ? `killed after ${describeWait(run.waitedMs)}` : 'it exited',
        });
      } else if (again?.result === 'removed') {
        faults.push({ ...base, by: 'halt', detail: 'after its runner ended' });
      } else {
        faults.push({
          ...base,
          by: 'not-removed',
          error:
            removedDirectly?.error ??
            (run.alive
              ? `its runner (pid ${run.pid}) is still alive`
              : `its journal says ${record?.state ?? 'nothing'}`),
        });
      }
    }
  }

  return { runs, faults, recovered: recovered.filter((r) => !liveIds.has(r.run)) };
}

/**
 * The first step of a halt: removes at once, directly, every open fault of these runs that does
 * not need its runner — everything but a toxic on an in-process proxy, through the removal
 * `faultline recover` uses — and reports in-process ones as left to the runner. A chaos object on
 * a cluster is removed only with `kubernetes`; otherwise it is reported failed, with why (its
 * runner still removes it). Exported for the control room's HALT button, which takes this same
 * path for its own run while telling its runner to stop.
 */
export async function removeReachableFaults(
  journals: readonly Journal[],
  options: {
    token?: string | undefined;
    signal?: AbortSignal | undefined;
    kubernetes?: RecoverOptions['kubernetes'];
  } = {},
): Promise<
  {
    run: string;
    fault: string;
    target: string;
    result: 'removed' | 'left-to-runner' | 'failed';
    error?: string | undefined;
  }[]
> {
  const out: Awaited<ReturnType<typeof removeReachableFaults>> = [];
  await Promise.all(
    journals.flatMap((journal) =>
      journal.faultline.faults.filter(isOpen).map(async (fault) => {
        const base = { run: journal.faultline.run_id, fault: fault.name, target: fault.target };
        if (inProcess(fault.location)) {
          out.push({ ...base, result: 'left-to-runner' });
          return;
        }
        try {
          await removeJournaledFault(fault.location, {
            token: options.token,
            signal: options.signal,
            kubernetes: options.kubernetes,
          });
          out.push({ ...base, result: 'removed' });
        } catch (err) {
          out.push({
            ...base,
            result: 'failed',
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }),
    ),
  );
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
