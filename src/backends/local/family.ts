/**
 * Local fault families: the faults a TCP proxy cannot make (processes, CPU/memory/disk,
 * PostgreSQL, Redis, RabbitMQ, the host network, DNS), each realised on this machine by a
 * family's driver (./local-driver.ts). A family is the removal half of its backend
 * (src/backends/<type>/backend.ts): how a journaled fault is removed from its location alone.
 *
 * Every family obeys the runner's rules: the fault is journaled (with its {@link faultTag})
 * before it is applied; the driver adds what removal needs to the journaled location's
 * `handle`; removal is idempotent; a lease ends the fault by itself even if the runner is
 * SIGKILLed (an agent process that outlives the runner, or the target's own timeout); and
 * {@link LocalFamily.recover} removes a leftover from the journaled location alone, so a live
 * run's removal and `faultline recover` take the same path.
 */
import type { Fault } from '../../experiment/schema.js';
import { formatDuration, parseDuration } from '../../experiment/duration.js';
import type { LocalBackendType, LocalLocation } from '../location.js';
import type { PlannedFault } from '../planned-fault.js';

/** Any local backend's location. */
export type AnyLocalLocation = LocalLocation<LocalBackendType, object>;

export interface LocalFamily<L extends AnyLocalLocation> {
  /**
   * Removes a fault knowing only its journaled location (tag, handle); a fault that is already
   * gone counts as removed. Throws when it could not be removed.
   */
  recover(location: L, signal: AbortSignal | undefined): Promise<void>;
}

/**
 * The tag everything a fault creates carries: `fl-<run id>-<fault name>`, restricted to
 * characters that survive a command line, an application_name, an iptables comment and a
 * file name.
 */
export function faultTag(runId: string, faultName: string): string {
  return `fl-${runId}-${faultName}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
}

/** A fault step of a local backend → its planned fault: the fault travels whole, the driver realises it. */
export function planLocalFault(fault: Fault, index: number): PlannedFault[] {
  const durationMs = parseDuration(fault.duration) ?? 0;
  const {
    fault: type,
    target,
    duration: _d,
    name: _n,
    ...rest
  } = fault as Fault & Record<string, unknown>;
  const details = Object.entries(rest)
    .filter(([, v]) => v !== undefined && (typeof v !== 'object' || v === null))
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  return [
    {
      kind: 'fault',
      name: fault.name ?? `${type}-${index + 1}`,
      target,
      effect: { type: 'local', fault },
      durationMs,
      describe: `${type} on ${target}${details ? ` (${details})` : ''} for ${formatDuration(durationMs)}`,
      source: fault,
    },
  ];
}
