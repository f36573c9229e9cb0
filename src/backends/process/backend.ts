/**
 * `process` targets: someone else's process on this machine, selected by pid, pidfile or
 * command-line match, and killed, frozen or restarted (./driver.ts, ./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { ProcessFaultDriver } from './driver.js';
import { processFamily } from './family.js';

export const processBackend: Backend<'process'> = {
  type: 'process',
  faults: ['pause-process', 'kill-process', 'restart-process'],
  declare: 'a process target (type: process, with pid, pidfile or match)',
  lives: 'outside',
  targetIssues(target, path) {
    // A process target selects by exactly one of pid, pidfile and match.
    const given = ['pid', 'pidfile', 'match'].filter((k) => target[k] !== undefined);
    if (given.length === 1) return [];
    return [
      {
        path,
        message:
          given.length === 0
            ? 'a process target needs pid, pidfile or match'
            : `a process target selects by one of pid, pidfile and match, not ${given.join(' and ')}`,
        hint: 'pid: 1234, pidfile: /run/app.pid, or match: "^node server.js" (with maxProcesses if more than one may match)',
      },
    ];
  },
  planFault: planLocalFault,
  createDriver: (name, spec, context) =>
    new ProcessFaultDriver<'process'>(name, spec, processFamily, context, 'process'),
  recover: (location, { signal }) => processFamily.recover(location, signal),
};
