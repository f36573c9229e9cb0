/**
 * A `service` target's process: the experiment starts it before the gate (ready when its port
 * accepts or its URL answers), process faults kill, freeze or restart it, and the run stops it
 * at the end — SIGTERM to its process group, SIGKILL after a grace period.
 *
 * It belongs to the run and must not outlive it:
 * - it runs in a process group of its own (a pod's worth of processes: a shell and what it
 *   started), so stopping it stops all of them, and a Ctrl-C meant for faultline reaches it
 *   only through faultline's clean-up;
 * - when faultline exits on a second signal (no clean-up), an exit hook SIGKILLs the group;
 * - when faultline is SIGKILLed, the kernel sends the service SIGTERM (`setpriv --pdeathsig`,
 *   util-linux), and `faultline recover` kills what is left of the group it journaled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { FaultError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import type { Target } from '../../experiment/schema.js';
import { groupMembers, readStat, type ProcessRef } from './proc.js';
import { waitFor } from '../../shared/wait.js';

export type ServiceSpec = Extract<Target, { type: 'service' }>;

/** How a service is started: journaled, so the handle says exactly what ran. */
export interface ServiceLaunch {
  argv: string[];
  /** The variables faultline set on top of its own environment (the spec's, libfaketime's). */
  env: Record<string, string>;
  cwd: string;
}

const live = new Set<ServiceProcess>();
let hooked = false;

/** A second Ctrl-C exits without clean-up: the services still go. */
function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const service of live) service.killNow();
  });
}

let setpriv: string | false | undefined;
function findSetpriv(): string | false {
  if (setpriv !== undefined) return setpriv;
  setpriv = false;
  for (const path of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(path, constants.X_OK);
      setpriv = path;
      break;
    } catch {
      // next
    }
  }
  return setpriv;
}

export function serviceLaunch(spec: ServiceSpec, extraEnv: Record<string, string>): ServiceLaunch {
  const argv =
    typeof spec.command === 'string' ? ['/bin/sh', '-c', spec.command] : [...spec.command];
  return { argv, env: { ...spec.env, ...extraEnv }, cwd: spec.cwd ?? process.cwd() };
}

/** An exit of a service that neither a fault nor the run asked for. */
export interface ServiceCrash {
  at: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its last lines of output. */
  said: string;
}

/** "exited with code 1 at 12:00:03.120Z", "was killed by SIGSEGV at …". */
export function describeCrash(crash: ServiceCrash): string {
  const how =
    crash.signal !== null
      ? `was killed by ${crash.signal}`
      : `exited with code ${String(crash.code)}`;
  return `${how} at ${crash.at.slice(11)}${crash.said ? ` (it said: ${crash.said})` : ''}`;
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private output: string[] = [];
  /** The group leader as started (pid = pgid). */
  leader: ProcessRef | undefined;
  /** Set while faultline itself stops it (a kill or restart fault, the run's end). */
  private stopping = false;
  /**
   * Exits nobody asked for — no fault, no stop: the system under test crashed. The run names
   * each one, and a service still down after the rollbacks is residue.
   */
  readonly crashes: ServiceCrash[] = [];

  constructor(
    readonly target: string,
    private readonly spec: ServiceSpec,
    readonly launch: ServiceLaunch,
  ) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null
      ? this.child.pid
      : undefined;
  }

  /** True while the group leader runs. */
  get running(): boolean {
    return this.pid !== undefined;
  }

  /** The last lines it wrote (stdout and stderr), for error messages. */
  get lastOutput(): string {
    return this.output.slice(-5).join(' | ');
  }

  describe(): string {
    const ready = this.spec.ready?.port
      ? `, ready on port ${this.spec.ready.port}`
      : this.spec.ready?.url
        ? `, ready at ${this.spec.ready.url}`
        : '';
    return `service \`${typeof this.spec.command === 'string' ? this.spec.command : this.spec.command.join(' ')}\`${this.pid ? ` (pid ${this.pid})` : ''}${ready}`;
  }

  /** Starts the service and waits until it is ready; throws (the service stopped) when it is not. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.running) return;
    installExitHook();
    const wrapper = findSetpriv();
    const argv = wrapper
      ? [wrapper, '--pdeathsig', 'SIGTERM', '--', ...this.launch.argv]
      : this.launch.argv;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: this.launch.cwd,
      env: { ...process.env, NODE_OPTIONS: '', ...this.launch.env },
      detached: true, // a process group of its own
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.stopping = false;
    this.output = [];
    child.once('exit', (code, sig) => {
      if (!this.stopping)
        this.crashes.push({
          at: new Date().toISOString(),
          code,
          signal: sig,
          said: this.lastOutput,
        });
    });
    const keep = (chunk: string): void => {
      for (const line of chunk.split('\n')) if (line.trim()) this.output.push(line.trim());
      if (this.output.length > 40) this.output.splice(0, this.output.length - 40);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    this.exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    void this.exited.then(() => live.delete(this));
    live.add(this);
    if (child.pid === undefined)
      throw new FaultError(
        `target "${this.target}": could not start ${this.launch.argv.join(' ')}: ${(await spawnError).message}`,
      );
    const stat = await readStat(child.pid);
    this.leader = { pid: child.pid, start: stat?.start ?? 0 };
    try {
      await this.waitReady(signal);
    } catch (err) {
      await this.stop('SIGKILL', 0);
      throw err;
    }
  }

  private async waitReady(signal: AbortSignal): Promise<void> {
    const ready = this.spec.ready;
    const timeoutMs = parseDuration(ready?.timeout ?? '30s') ?? 30_000;
    const probe = async (): Promise<boolean> => {
      if (!this.running)
        throw new FaultError(
          `target "${this.target}": the service exited before it was ready${this.lastOutput ? `: ${this.lastOutput}` : ''}`,
          { hint: 'run its command by hand to see why' },
        );
      if (ready?.port) return portOpen(ready.port);
      if (ready?.url) return urlAnswers(ready.url);
      return true;
    };
    if (!(await waitFor(probe, timeoutMs, signal))) {
      const what = ready?.port
        ? `port ${ready.port} did not accept connections`
        : `${String(ready?.url)} did not answer`;
      throw new FaultError(
        `target "${this.target}": the service was not ready within ${ready?.timeout ?? '30s'} (${what})${this.lastOutput ? `; it said: ${this.lastOutput}` : ''}`,
        {
          hint: 'check ready.port / ready.url against what the service listens on, or raise ready.timeout',
        },
      );
    }
  }

  /** Signals every process of the service's group. */
  signalGroup(sig: NodeJS.Signals): void {
    if (!this.leader) return;
    try {
      process.kill(-this.leader.pid, sig);
    } catch {
      // the group is gone
    }
  }

  /** The live processes of its group (the leader and whatever it started). */
  async members(): Promise<ProcessRef[]> {
    if (!this.leader) return [];
    const out: ProcessRef[] = [];
    for (const pid of await groupMembers(this.leader.pid)) {
      const stat = await readStat(pid);
      if (stat) out.push({ pid, start: stat.start });
    }
    return out;
  }

  /**
   * Stops the whole group: `sig`, then SIGKILL after `graceMs`; resolves once the leader has
   * exited and no process of the group is left.
   */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.leader) return;
    this.stopping = true;
    const pgid = this.leader.pid;
    this.signalGroup(sig);
    if (sig !== 'SIGKILL' && sig !== 'SIGCONT') this.signalGroup('SIGCONT'); // a frozen service acts on SIGTERM only once thawed
    const gone = async (): Promise<boolean> =>
      !this.running && (await groupMembers(pgid)).length === 0;
    if (!(await waitFor(gone, sig === 'SIGKILL' ? 0 : graceMs))) {
      this.signalGroup('SIGKILL');
      if (!(await waitFor(gone, 10_000)))
        throw new FaultError(
          `target "${this.target}": the service (process group ${pgid}) did not die on SIGKILL`,
        );
    }
    await this.exited;
  }

  /** Synchronous last resort (process exit): SIGKILL the group. */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

async function urlAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}
