/**
 * The driver of `process` and `service` targets: kill, pause, restart and (services only) clock
 * skew. A `process` target is someone else's process, selected at preparation (refused when
 * the selection is empty or wider than maxProcesses) and again when each fault is applied; a
 * `service` target is started by the run at preparation and stopped at the end
 * (./service.ts).
 *
 * Deadlines: a pause and a clock skew are held by agents (./pause-agent.ts, ./clock-agent.ts)
 * that end them by themselves at the lease; a killed service is started again by removal (the
 * runner's), and a killed plain process stays down by design.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultError, UsageError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../driver.js';
import type { LocalLocation } from '../location.js';
import { findAgents, startAgent } from '../local/agent.js';
import { faultTag, type LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import { faketimeEnv, faketimeOffset, findLibfaketime, NO_SKEW } from './faketime.js';
import {
  isSameProcess,
  isStopped,
  readLaunch,
  selectProcesses,
  terminate,
  type ProcessRef,
} from './proc.js';
import { relaunch, type Relaunched } from './relaunch.js';
import { ServiceProcess, describeCrash, serviceLaunch } from './service.js';

type ProcessTarget = Extract<Target, { type: 'process' | 'service' }>;

/** What each fault journals in its location's handle (JSON). */
export interface ProcessHandle {
  /** The processes the fault acts on, as met (pid + start time). */
  processes?: ProcessRef[];
  /** Service targets: how it was started and its group leader at the time. */
  service?: {
    argv: string[];
    env: Record<string, string>;
    cwd: string;
    leader?: ProcessRef | undefined;
    runner: number;
  };
  /** restart-process on a plain process: how each was started (argv, exe, cwd, env). */
  launches?: {
    pid: number;
    argv: string[];
    exe?: string | undefined;
    cwd: string;
    env: Record<string, string>;
  }[];
  /** restart-process: the processes started again. */
  restarted?: Relaunched[] | ProcessRef[];
  /** The agent holding a pause or a clock skew. */
  agent?: number;
  /** clock-skew: the service's libfaketime timestamp file. */
  file?: string;
  offset?: string;
  /** A pause journaled by an older faultline: the process and the watchdog resuming it. */
  legacyPause?: { pid: number; watchdog?: number | undefined };
}

const DEFAULT_GRACE_MS = 10_000;

export class ProcessFaultDriver<B extends 'process' | 'service'> extends LocalFaultDriver<
  B,
  ProcessHandle
> {
  protected newHandle(): ProcessHandle {
    return {};
  }

  private service: ServiceProcess | undefined;
  private clockFile: string | undefined;
  private selected: ProcessRef[] = [];

  constructor(
    target: string,
    private readonly spec: ProcessTarget,
    family: LocalFamily<LocalLocation<B, ProcessHandle>>,
    context: DriverContext,
    backend: B,
  ) {
    super(target, family, context, backend);
  }

  get description(): string {
    if (this.spec.type === 'service')
      return (
        this.service?.describe() ??
        `service \`${typeof this.spec.command === 'string' ? this.spec.command : this.spec.command.join(' ')}\``
      );
    const how =
      this.spec.pid !== undefined
        ? `pid ${this.spec.pid}`
        : this.spec.pidfile
          ? `pidfile ${this.spec.pidfile}`
          : `command line matching /${String(this.spec.match)}/`;
    return `local process (${how})${this.selected.length ? ` = pid ${this.selected.map((p) => p.pid).join(', ')}` : ''}`;
  }

  /** The service's process (service targets, after prepare): for tests and the demo. */
  get serviceProcess(): ServiceProcess | undefined {
    return this.service;
  }

  /** Does any fault of the plan skew this target's clock? Then the service starts under libfaketime. */
  private needsClock(): boolean {
    return this.context.faults.some(
      (s) =>
        s.target === this.target &&
        s.effect.type === 'local' &&
        s.effect.fault.fault === 'clock-skew',
    );
  }

  override async prepare(signal: AbortSignal): Promise<void> {
    if (this.spec.type === 'process') {
      // Refused here, before the gate and before anything is applied.
      this.selected = await selectProcesses(this.spec, this.target);
      return;
    }
    let extra: Record<string, string> = {};
    if (this.needsClock()) {
      const library = findLibfaketime();
      this.clockFile = join(
        tmpdir(),
        `faultline-clock-${faultTag(this.context.runId, this.target)}`,
      );
      writeFileSync(this.clockFile, `${NO_SKEW}\n`);
      extra = faketimeEnv(library, this.clockFile, { ...process.env, ...this.spec.env });
    }
    this.service = new ServiceProcess(this.target, this.spec, serviceLaunch(this.spec, extra));
    await this.service.start(signal);
  }

  private needService(): ServiceProcess {
    if (!this.service) throw new UsageError(`target ${this.target} was not prepared`);
    return this.service;
  }

  /** The processes a fault acts on now: a service's whole group, or the target's selection again. */
  private async current(): Promise<ProcessRef[]> {
    if (this.spec.type === 'service') {
      const members = await this.needService().members();
      if (members.length === 0)
        throw new FaultError(
          `target "${this.target}": the service is not running${this.service?.lastOutput ? ` (it said: ${this.service.lastOutput})` : ''}`,
        );
      return members;
    }
    return selectProcesses(this.spec, this.target);
  }

  private serviceHandle(): ProcessHandle['service'] {
    const service = this.needService();
    return { ...service.launch, leader: service.leader, runner: process.pid };
  }

  protected async applyFault({
    fault,
    tag,
    leaseSeconds,
    signal,
    location,
    save,
  }: LocalApply<LocalLocation<B, ProcessHandle>>): Promise<void> {
    const handle = location.handle;
    if (this.spec.type === 'service') handle.service = this.serviceHandle();
    switch (fault.fault) {
      case 'pause-process': {
        handle.processes = await this.current();
        save(); // journaled before any process is stopped
        const agent = await startAgent(
          { kind: 'process/pause', tag, leaseSeconds, params: { processes: handle.processes } },
          signal,
        );
        handle.agent = agent.pid;
        save();
        return;
      }
      case 'kill-process': {
        handle.processes = await this.current();
        save();
        const grace = parseDuration(fault.gracePeriod ?? '10s') ?? DEFAULT_GRACE_MS;
        if (this.service) await this.service.stop(fault.signal, grace);
        else await terminate(handle.processes, fault.signal, grace, signal);
        return;
      }
      case 'restart-process': {
        if (this.service) {
          handle.processes = await this.current();
          save();
          await this.service.stop(fault.signal, DEFAULT_GRACE_MS);
          await this.service.start(signal);
          handle.restarted = this.service.leader ? [this.service.leader] : [];
          save();
          return;
        }
        const refs = await this.current();
        handle.processes = refs;
        // Everything needed to start them again is on disk before any of them is stopped.
        handle.launches = [];
        for (const ref of refs)
          handle.launches.push({ pid: ref.pid, ...(await readLaunch(ref.pid)) });
        handle.restarted = [];
        save();
        await terminate(refs, fault.signal, DEFAULT_GRACE_MS, signal);
        for (const launch of handle.launches) {
          (handle.restarted as Relaunched[]).push(await relaunch(launch, tag));
          save();
        }
        return;
      }
      case 'clock-skew': {
        if (!this.clockFile)
          throw new FaultError(
            `target "${this.target}": the service was not started under libfaketime`,
          );
        handle.file = this.clockFile;
        handle.offset = faketimeOffset(fault.offset);
        save();
        const agent = await startAgent(
          {
            kind: 'process/clock',
            tag,
            leaseSeconds,
            params: { file: handle.file, offset: handle.offset },
          },
          signal,
        );
        handle.agent = agent.pid;
        save();
        return;
      }
      default:
        throw new UsageError(`a ${this.spec.type} target cannot take ${fault.fault}`);
    }
  }

  /**
   * Removal during a live run: what `recover` does, and a killed service is started again by
   * this driver (it is the run's child, stopped at the end with the rest of the run).
   */
  override async remove(
    location: LocalLocation<B, ProcessHandle>,
    signal: AbortSignal,
  ): Promise<void> {
    await this.family.recover(location, signal);
    if (this.service && location.fault === 'kill-process' && !this.service.running) {
      await this.service.start(signal);
      location.handle.restarted = this.service.leader ? [this.service.leader] : [];
    }
  }

  /** The processes it acted on (and, for a restart, the ones started again), as items. */
  override async touched(location: LocalLocation<B, ProcessHandle>): Promise<Touched | undefined> {
    const handle = location.handle;
    const acted = (handle.processes ?? []).map((p) => `pid ${p.pid}`);
    if (location.fault === 'clock-skew' && handle.service?.leader)
      acted.push(`pid ${handle.service.leader.pid} clock ${handle.offset ?? ''}`.trim());
    const restarted = (handle.restarted ?? []).map((p) => `restarted as pid ${p.pid}`);
    const items = [...acted, ...restarted];
    return items.length > 0 ? { connections: 0, bytes: 0, requests: 0, items } : undefined;
  }

  override async isGone(
    location: LocalLocation<B, ProcessHandle>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const handle = location.handle;
    switch (location.fault) {
      case 'pause-process': {
        if (!(await super.isGone(location, signal))) return false;
        for (const ref of handle.processes ?? [])
          if ((await isSameProcess(ref)) && (await isStopped(ref.pid))) return false;
        return true;
      }
      case 'clock-skew':
        if (!(await super.isGone(location, signal))) return false;
        return (
          !handle.file ||
          !existsSync(handle.file) ||
          readFileSync(handle.file, 'utf8').trim() === NO_SKEW
        );
      case 'kill-process':
        // A service is back; a plain process stays down by design (nothing to undo).
        return this.service ? this.service.running : true;
      case 'restart-process': {
        if (this.service) return this.service.running;
        for (const ref of handle.restarted ?? []) if (!(await isSameProcess(ref))) return false;
        return (handle.restarted?.length ?? 0) === (handle.processes?.length ?? 0);
      }
      default: {
        // From a journal: one written by another version may carry no tag.
        const tag = location.tag as string | undefined;
        return (await findAgents(tag ?? '')).length === 0;
      }
    }
  }

  /** A service that crashed by itself during the run: named, whatever the verdict. */
  notices(): string[] {
    return (this.service?.crashes ?? []).map(
      (crash) =>
        `service target "${this.target}" ${describeCrash(crash)}: no fault asked for it, the service under test crashed`,
    );
  }

  /** A service target still down after the rollbacks (it crashed and nothing started it again). */
  async leftovers(): Promise<string[]> {
    if (this.spec.type !== 'service' || !this.service) return [];
    // /proc as well as the exit event: a crash a moment ago may not have been reaped yet.
    const leader = this.service.leader;
    if (this.service.running && leader && (await isSameProcess(leader))) return [];
    const crash = this.service.crashes.at(-1);
    return [
      `the service is not running${crash ? `: it ${describeCrash(crash)}, and nothing started it again` : ''}`,
    ];
  }

  override async dispose(): Promise<void> {
    try {
      await this.service?.stop('SIGTERM', DEFAULT_GRACE_MS);
    } finally {
      if (this.clockFile) rmSync(this.clockFile, { force: true });
    }
  }
}
