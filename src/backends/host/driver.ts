/**
 * The driver of `host` targets: cpu-stress, memory-stress and disk-fill on the machine faultline
 * runs on. Each fault is held by an agent process (./cpu-agent.ts, ./memory-agent.ts,
 * ./disk-agent.ts) that ends it by itself at the lease: its threads stop, its memory goes back
 * with the process, its fill file is deleted. Removal stops the agent by tag; the family's
 * `recover` also deletes a fill file a SIGKILLed agent left.
 *
 * Preparation refuses, before anything is applied, what the machine cannot take: more CPU
 * workers than 4 per core, more memory than 90% of what is available, a disk floor below the
 * safe minimum or already crossed, a path that is not a directory.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { parseRate } from '../../experiment/duration.js';
import type { Fault, Target } from '../../experiment/schema.js';
import type { PlannedFault } from '../planned-fault.js';
import type { Touched } from '../driver.js';
import type { HostLocation } from '../location.js';
import { findAgents, startAgent } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import { fillFile, space } from './disk.js';
import {
  DISK_FLOOR_BYTES,
  DISK_FLOOR_FRACTION,
  MEMORY_CEILING_FRACTION,
  formatBytes,
  parseSize,
  sizeBytes,
} from './size.js';

/** What each fault journals in its location's handle. */
export interface HostHandle {
  agent?: number;
  /** disk-fill: the directory and the fill file (deleted by removal and recover). */
  dir?: string;
  file?: string;
  /** disk-fill: the free space left, in bytes; memory-stress: the bytes held. */
  bytes?: number;
}

const WORKERS_PER_CORE = 4;

/** MemAvailable from /proc/meminfo (falls back to the total elsewhere). */
async function memoryAvailable(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : totalmem();
}

export class HostFaultDriver extends LocalFaultDriver<'host', HostHandle> {
  protected newHandle(): HostHandle {
    return {};
  }

  readonly description = 'this host (CPU, memory, disk)';

  constructor(
    target: string,
    _spec: Extract<Target, { type: 'host' }>,
    family: LocalFamily<HostLocation>,
    context: DriverContext,
  ) {
    super(target, family, context, 'host');
  }

  private faults(): { name: string; fault: Fault }[] {
    return this.context.faults
      .filter((s): s is PlannedFault => s.target === this.target && s.effect.type === 'local')
      .map((s) => ({ name: s.name, fault: (s.effect as { fault: Fault }).fault }));
  }

  override async prepare(_signal: AbortSignal): Promise<void> {
    for (const { name, fault } of this.faults()) await this.check(name, fault);
  }

  /** Refuses a fault the machine cannot take; returns what applying it needs. */
  private async check(name: string, fault: Fault): Promise<{ bytes?: number; dir?: string }> {
    const at = `fault "${name}" on target "${this.target}"`;
    switch (fault.fault) {
      case 'cpu-stress': {
        const max = availableParallelism() * WORKERS_PER_CORE;
        if (fault.workers > max)
          throw new UsageError(
            `${at}: ${fault.workers} workers on a machine of ${availableParallelism()} cores`,
            {
              hint: `at most ${max} (${WORKERS_PER_CORE} per core); use load to set how hard each works`,
            },
          );
        return {};
      }
      case 'memory-stress': {
        const available = await memoryAvailable();
        const bytes = sizeBytes(fault.size, totalmem());
        if (bytes > available * MEMORY_CEILING_FRACTION) {
          throw new UsageError(
            `${at}: size ${fault.size} (${formatBytes(bytes)}) is more than ${MEMORY_CEILING_FRACTION * 100}% of the ${formatBytes(available)} of memory available`,
            {
              hint: 'a smaller size: the rehearsal must not bring the out-of-memory killer down on the machine',
            },
          );
        }
        if (fault.growth !== undefined && !(parseRate(fault.growth)! > 0))
          throw new UsageError(`${at}: growth ${fault.growth} must be above 0`);
        return { bytes };
      }
      case 'disk-fill': {
        const dir = resolve(fault.path);
        const info = await stat(dir).catch(() => undefined);
        if (!info?.isDirectory())
          throw new UsageError(`${at}: path ${fault.path} is not a directory`, {
            hint: 'the directory on the file system to fill (it must exist)',
          });
        const fs = await space(dir);
        const bytes = sizeBytes(fault.remaining, fs.total);
        // A size is held to 64 MB, a percentage to 1% of the file system (the load-time check
        // says the same; this one also guards experiments built through the library API).
        const size = parseSize(fault.remaining);
        const minimum =
          size && 'fraction' in size ? Math.ceil(fs.total * DISK_FLOOR_FRACTION) : DISK_FLOOR_BYTES;
        if (bytes < minimum) {
          throw new UsageError(
            `${at}: remaining ${fault.remaining} (${formatBytes(bytes)}) is below the safe minimum of free space (${formatBytes(DISK_FLOOR_BYTES)}, or 1% of the file system)`,
            {
              hint: "leave more free space: a full disk stops the machine's own logs and services too",
            },
          );
        }
        if (fs.available <= bytes) {
          throw new UsageError(
            `${at}: the file system under ${fault.path} has ${formatBytes(fs.available)} free, already no more than remaining ${fault.remaining} (${formatBytes(bytes)})`,
            { hint: 'the fault would write nothing: lower remaining, or choose another path' },
          );
        }
        return { bytes, dir };
      }
      default:
        throw new UsageError(`${at}: a host target cannot take ${fault.fault}`);
    }
  }

  protected async applyFault({
    fault,
    name,
    tag,
    leaseSeconds,
    signal,
    location,
    save,
  }: LocalApply<HostLocation>): Promise<void> {
    const handle = location.handle;
    const { bytes, dir } = await this.check(name, fault);
    let agent;
    switch (fault.fault) {
      case 'cpu-stress':
        agent = await startAgent(
          {
            kind: 'host/cpu',
            tag,
            leaseSeconds,
            params: { workers: fault.workers, load: fault.load ?? 100 },
          },
          signal,
        );
        break;
      case 'memory-stress':
        agent = await startAgent(
          {
            kind: 'host/memory',
            tag,
            leaseSeconds,
            params: {
              bytes,
              growth: fault.growth === undefined ? undefined : parseRate(fault.growth),
            },
            readyTimeoutMs: 120_000,
          },
          signal,
        );
        break;
      case 'disk-fill': {
        // Journaled before the first byte is written: recover knows the file even if the agent dies.
        handle.dir = dir;
        handle.file = fillFile(dir!, tag);
        save();
        agent = await startAgent(
          {
            kind: 'host/disk',
            tag,
            leaseSeconds,
            params: { dir, file: handle.file, remaining: bytes },
            readyTimeoutMs: Math.max(60_000, leaseSeconds * 1000),
          },
          signal,
        );
        break;
      }
      default:
        throw new UsageError(`a host target cannot take ${fault.fault}`);
    }
    handle.agent = agent.pid;
    handle.bytes = (agent.info as { bytes?: number } | null)?.bytes;
    save();
  }

  /** The agent holding the pressure, and what it holds, as items. */
  override async touched(location: HostLocation): Promise<Touched | undefined> {
    const handle = location.handle;
    if (handle.agent === undefined) return undefined;
    const held =
      location.fault === 'disk-fill'
        ? `fill file ${handle.file ?? '?'}${handle.bytes !== undefined ? ` (${formatBytes(handle.bytes)} left free)` : ''}`
        : location.fault === 'memory-stress' && handle.bytes !== undefined
          ? `${formatBytes(handle.bytes)} held`
          : 'CPU';
    return { connections: 0, bytes: 0, requests: 0, items: [`agent pid ${handle.agent}: ${held}`] };
  }

  override async isGone(location: HostLocation, _signal: AbortSignal): Promise<boolean> {
    const file = location.handle.file;
    if (file && (await stat(file).catch(() => undefined))) return false;
    // The location comes from a journal, possibly written by a version that journaled no tag.
    const tag = location.tag as string | undefined;
    return tag === undefined || (await findAgents(tag)).length === 0;
  }
}
