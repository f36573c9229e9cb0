/**
 * The process fault family (src/faults/local/family.ts): kill-process, pause-process,
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
import type { FaultLocation } from '../../targets/fault-driver.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { ProcessFaultDriver, type ProcessHandle } from './driver.js';
import { NO_SKEW } from './faketime.js';
import { groupMembers, isSameProcess, signalPid, signalRef, type ProcessRef } from './proc.js';
import { findByCommandLine, relaunch } from './relaunch.js';

export const processFamily: LocalFamily = {
  name: 'process',
  targetTypes: ['process', 'service'],
  createDriver(name, spec, context) {
    if (spec.type !== 'process' && spec.type !== 'service') throw new Error(`the process family does not drive ${spec.type} targets`);
    return new ProcessFaultDriver(name, spec, processFamily, context);
  },
  async recover(location: FaultLocation, signal: AbortSignal | undefined) {
    const handle = (location.handle ?? {}) as ProcessHandle;
    const tag = location.tag;
    switch (location.fault) {
      case 'pause-process':
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
  const leaders = [handle.service?.leader, ...((handle.restarted ?? []) as ProcessRef[])].filter((r): r is ProcessRef => r !== undefined);
  for (const leader of leaders) {
    if (await isSameProcess(leader)) signalPid(-leader.pid, 'SIGKILL');
    else for (const pid of await groupMembers(leader.pid)) signalPid(pid, 'SIGKILL');
  }
}

/** Starts again each journaled process that a dead run stopped and did not start again. */
async function finishRestart(handle: ProcessHandle, tag: string): Promise<void> {
  const restarted = (handle.restarted ?? []) as ProcessRef[];
  for (const launch of handle.launches ?? []) {
    const original = handle.processes?.find((p) => p.pid === launch.pid);
    if (original && (await isSameProcess(original))) continue; // never stopped
    if (findByCommandLine(launch.argv) !== undefined) continue; // already started again
    restarted.push(await relaunch(launch, tag));
  }
  handle.restarted = restarted;
}
