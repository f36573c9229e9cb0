/**
 * The process fault family (src/backends/local/family.ts): kill-process, pause-process,
 * restart-process on `process` targets (someone else's process: pid, pidfile or command-line
 * match) and `service` targets (a process the run starts), and clock-skew on services.
 *
 * `recover` removes a fault from its journaled handle alone, so a live run's removal and
 * `faultline recover` after a SIGKILLed runner take the same path:
 * - pause-process: the agent is stopped (it sends SIGCONT); then every journaled process that is
 *   still the one faultline met is sent SIGCONT directly, in case the agent itself was killed;
 * - clock-skew: the agent is stopped (it writes "+0"); then "+0" is written again;
 * - restart-process on a plain process: each journaled process that is neither alive nor already
 *   started again (same command line) is started from its journaled argv, cwd and environment;
 * - kill-process on a plain process: nothing — a killed process stays down by design;
 * - kill-process and restart-process on a service, runner dead: the service is NOT started
 *   again. It belonged to the run (started by it, a child of it, SIGTERMed by the kernel when
 *   the runner died); the state before the run is "no such service", so recover stops whatever
 *   is left of its process group instead of leaving an orphan nobody owns on the machine. The
 *   live runner does restart it at removal (./driver.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { ProcessLocation } from '../location.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import type { ProcessHandle } from './driver.js';
import { NO_SKEW } from './faketime.js';
import { groupMembers, isSameProcess, signalPid, signalRef, type ProcessRef } from './proc.js';
import { findByCommandLine, relaunch } from './relaunch.js';

export const processFamily: LocalFamily<ProcessLocation> = {
  async recover(location: ProcessLocation, signal: AbortSignal | undefined) {
    const handle = location.handle;
    // From a journal: one written by another version may carry no tag.
    const tag = location.tag as string | undefined;
    switch (location.fault) {
      case 'pause-process':
        if (handle.legacyPause) resumeLegacy(handle.legacyPause);
        if (tag) await stopAgents(tag, { graceMs: 5_000, signal });
        for (const ref of handle.processes ?? []) await signalRef(ref, 'SIGCONT');
        return;
      case 'clock-skew':
        if (tag) await stopAgents(tag, { graceMs: 5_000, signal });
        if (handle.file && existsSync(handle.file)) writeFileSync(handle.file, `${NO_SKEW}\n`);
        return;
      case 'kill-process':
      case 'restart-process':
        if (handle.service) {
          if (!isAlive(handle.service.runner)) await stopLeftoverService(handle);
          return;
        }
        if (location.fault === 'restart-process') await finishRestart(handle, tag ?? 'process');
        return;
      default:
        if (tag) await stopAgents(tag, { signal });
    }
  },
};

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    return signalPid(pid, 0);
  } catch {
    return true; // EPERM: alive, someone else's
  }
}

/** A dead run's service: kill what is left of its process group(s). */
async function stopLeftoverService(handle: ProcessHandle): Promise<void> {
  const leaders = [handle.service?.leader, ...(handle.restarted ?? [])].filter(
    (r): r is ProcessRef => r !== undefined,
  );
  for (const leader of leaders) {
    if (await isSameProcess(leader)) signalPid(-leader.pid, 'SIGKILL');
    else for (const pid of await groupMembers(leader.pid)) signalPid(pid, 'SIGKILL');
  }
}

/** Starts again each journaled process that a dead run stopped and did not start again. */
async function finishRestart(handle: ProcessHandle, tag: string): Promise<void> {
  const restarted = handle.restarted ?? [];
  for (const launch of handle.launches ?? []) {
    const original = handle.processes?.find((p) => p.pid === launch.pid);
    if (original && (await isSameProcess(original))) continue; // never stopped
    if (findByCommandLine(launch.argv) !== undefined) continue; // already started again
    restarted.push(await relaunch(launch, tag));
  }
  handle.restarted = restarted;
}

/** Resumes a process an older faultline paused, and stops its watchdog; gone counts as resumed. */
function resumeLegacy({ pid, watchdog }: { pid: number; watchdog?: number | undefined }): void {
  if (watchdog !== undefined) {
    try {
      process.kill(-watchdog, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    process.kill(pid, 'SIGCONT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
