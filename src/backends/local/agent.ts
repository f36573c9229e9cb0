/**
 * Fault agents: detached child processes that hold a local fault (burn CPU, hold memory, hold
 * PostgreSQL sessions and locks, keep a watchdog) and end it by themselves at their lease
 * deadline. They outlive the runner on purpose — a SIGKILLed runner cannot leave a fault past
 * its deadline — and carry their fault's tag on their command line (`--faultline-agent=TAG`)
 * so removal and `faultline recover` find them even without a journaled pid.
 *
 * An agent kind `family/name` is the module `src/backends/<family>/<name>-agent.ts` exporting
 * {@link AgentModule.run}. The module applies the fault, calls `ready(info)` (the info goes back
 * to the driver, e.g. the sessions it opened), and returns once `signal` aborts (SIGTERM from
 * removal, or the deadline), after undoing what it did.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FaultError } from '../../errors.js';

export interface AgentContext {
  /** Aborted at removal (SIGTERM/SIGINT/SIGHUP) or at the lease deadline. */
  signal: AbortSignal;
  tag: string;
  /** Epoch milliseconds at which the agent ends the fault by itself. */
  deadline: number;
  /** Reports the fault applied; `info` (JSON) is handed to the driver. Call once. */
  ready(info?: unknown): void;
}

export interface AgentModule {
  run(params: unknown, context: AgentContext): Promise<void>;
}

export interface AgentSpec {
  /** `family/name`: the module src/backends/<family>/<name>-agent. */
  kind: string;
  tag: string;
  leaseSeconds: number;
  params?: unknown;
  /** Extra environment for the agent (e.g. a niceness or a library to preload). */
  env?: Record<string, string> | undefined;
  /** How long the agent may take to apply the fault (default 30 s). */
  readyTimeoutMs?: number | undefined;
}

export interface StartedAgent {
  pid: number;
  /** What the agent passed to `ready`. */
  info: unknown;
}

export const AGENT_FLAG = '--faultline-agent=';

/** The agent entry next to this file: .ts under tsx (tests, development), .js in the package. */
function entry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const file = here.replace(/agent\.(ts|js)$/, `agent-main.${ts ? 'ts' : 'js'}`);
  return { file, execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [] };
}

/**
 * Starts an agent and waits until it has applied its fault. Rejects (with the agent's own
 * message) when it fails to apply; the agent is then gone, having undone what it had done.
 */
// eslint-disable-next-line max-lines-per-function -- spawn, wait for the ready line, and undo on every failure path: one sequence that reads top to bottom
export async function startAgent(spec: AgentSpec, signal?: AbortSignal): Promise<StartedAgent> {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(spec.kind))
    throw new FaultError(`bad agent kind ${spec.kind}`);
  const { file, execArgv } = entry();
  const child = spawn(
    process.execPath,
    [...execArgv, file, spec.kind, `${AGENT_FLAG}${spec.tag}`, String(spec.leaseSeconds)],
    {
      detached: true, // its own process group: a signal to the runner's group does not reach it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        ...spec.env,
        FAULTLINE_AGENT_PARAMS: JSON.stringify(spec.params ?? null),
      },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new FaultError(`could not start the ${spec.kind} agent`);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  try {
    const info = await new Promise<unknown>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () =>
          fail(
            new FaultError(
              `the ${spec.kind} agent did not apply its fault within ${(spec.readyTimeoutMs ?? 30_000) / 1000} s`,
            ),
          ),
        spec.readyTimeoutMs ?? 30_000,
      );
      const onAbort = (): void =>
        fail(signal?.reason instanceof Error ? signal.reason : new FaultError('interrupted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        child.stdout.removeAllListeners('data');
        child.removeAllListeners('exit');
      }
      function fail(err: Error): void {
        done();
        try {
          process.kill(pid!, 'SIGTERM');
        } catch {
          // gone
        }
        reject(err);
      }
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        let message: { ready?: boolean; info?: unknown; error?: string };
        try {
          message = JSON.parse(out.slice(0, nl)) as typeof message;
        } catch {
          fail(new FaultError(`the ${spec.kind} agent said: ${out.slice(0, nl)}`));
          return;
        }
        done();
        if (message.ready) resolve(message.info);
        else reject(new FaultError(message.error ?? `the ${spec.kind} agent failed`));
      });
      child.once('exit', (code, sig) => {
        done();
        reject(
          new FaultError(
            `the ${spec.kind} agent exited (${sig ?? `code ${String(code)}`}) before applying its fault${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`,
          ),
        );
      });
    });
    return { pid, info };
  } finally {
    // From here on the agent lives by itself: nothing of the runner keeps it, nor it the runner.
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
  }
}

/** Pids of the live agents carrying `tag` (a fault has at most one; a crash may leave more). */
export async function findAgents(tag: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (/^\d+$/.test(entry) && (await isAgent(Number(entry), tag))) found.push(Number(entry));
  }
  return found;
}

/** Whether `pid` is a live agent of `tag` (its command line says so: a recycled pid does not). */
async function isAgent(pid: number, tag: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').includes(`${AGENT_FLAG}${tag}`) && !(await isZombie(pid));
}

async function isZombie(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X' || state === '';
}

/**
 * Ends every agent carrying `tag`: SIGTERM (the agent undoes its fault and exits), SIGKILL
 * after `graceMs`. Resolves once none is left. Agents are found by tag, never by a bare pid, so
 * a recycled pid is never signalled.
 */
export async function stopAgents(
  tag: string,
  options: { graceMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const grace = options.graceMs ?? 10_000;
  const started = Date.now();
  // The agents found are watched by pid (the whole of /proc is read once per pass, not every
  // 20 ms); a last full pass catches one that started meanwhile (an apply being interrupted).
  for (let pids = await findAgents(tag); pids.length > 0; pids = await findAgents(tag)) {
    let sentKill = false;
    for (const pid of pids) signalPid(pid, 'SIGTERM');
    while (pids.length > 0) {
      if (options.signal?.aborted)
        throw options.signal.reason instanceof Error
          ? options.signal.reason
          : new FaultError('interrupted');
      if (!sentKill && Date.now() - started > grace) {
        for (const pid of pids) signalPid(pid, 'SIGKILL');
        sentKill = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 20)); // polling /proc: a non-child's exit has no event
      const alive = await Promise.all(pids.map((pid) => isAgent(pid, tag)));
      pids = pids.filter((_, i) => alive[i]);
    }
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
