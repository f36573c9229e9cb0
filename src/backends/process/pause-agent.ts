/**
 * The `process/pause` agent: freezes processes with SIGSTOP, holds them until removal or the
 * lease deadline, then resumes them with SIGCONT. It is a detached process of its own, so a
 * SIGKILLed runner cannot leave a process frozen past the deadline.
 *
 * Params: `{ processes: ProcessRef[] }` (each signalled only while it is still the process
 * faultline met: a recycled pid is never touched). A service target passes its whole process
 * group's members, as a pod's containers are frozen together.
 */
import type { AgentContext } from '../local/agent.js';
import { isStopped, signalRef, type ProcessRef } from './proc.js';
import { waitFor } from '../../shared/wait.js';

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const processes = (params as { processes?: ProcessRef[] } | null)?.processes ?? [];
  if (processes.length === 0) throw new Error('no process to pause');
  const stopped: ProcessRef[] = [];
  try {
    for (const ref of processes) if (await signalRef(ref, 'SIGSTOP')) stopped.push(ref);
    if (stopped.length === 0)
      throw new Error(`process(es) ${processes.map((p) => p.pid).join(', ')} are gone`);
    // Seen from outside before reporting it applied: state T in /proc.
    const all = async (): Promise<boolean> =>
      (await Promise.all(stopped.map((r) => isStopped(r.pid)))).every(Boolean);
    if (!(await waitFor(all, 5_000))) throw new Error('the processes did not stop on SIGSTOP');
    context.ready({ stopped: stopped.map((r) => r.pid) });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    for (const ref of stopped) await signalRef(ref, 'SIGCONT').catch(() => false);
  }
}
