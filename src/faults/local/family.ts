/**
 * Local fault families: the faults a TCP proxy cannot make (processes, CPU/memory/disk,
 * PostgreSQL, Redis, RabbitMQ, the host network, DNS), each realised on this machine by a
 * family's driver. A family owns some target types (src/experiment/schema.ts) and the fault
 * types the capability table gives them (src/targets/capabilities.ts).
 *
 * Every family obeys the runner's rules: the fault is journaled (with its {@link faultTag})
 * before it is applied; the driver adds what removal needs to the journaled location's
 * `handle`; removal is idempotent; a lease ends the fault by itself even if the runner is
 * SIGKILLed (an agent process that outlives the runner, or the target's own timeout); and
 * {@link LocalFamily.recover} removes a leftover from the journaled location alone.
 */
import type { Target } from '../../experiment/schema.js';
import type { RunPlan } from '../../runner/plan.js';
import type { FaultDriver, FaultLocation } from '../../targets/fault-driver.js';

export interface LocalDriverContext {
  /** The run's id: part of every fault's tag. */
  runId: string;
  plan: RunPlan;
}

export interface LocalFamily {
  /** Short name, recorded in each fault's location (`location.family`). */
  readonly name: string;
  /** The target types this family drives. */
  readonly targetTypes: readonly Target['type'][];
  /** The driver for one target of a run. */
  createDriver(name: string, spec: Target, context: LocalDriverContext): FaultDriver;
  /**
   * Removes a fault that a dead run left, knowing only its journaled location (tag, handle);
   * a fault that is already gone counts as removed. Throws when it could not be removed.
   */
  recover(location: FaultLocation, signal: AbortSignal | undefined): Promise<void>;
}

/**
 * The tag everything a fault creates carries: `fl-<run id>-<fault name>`, restricted to
 * characters that survive a command line, an application_name, an iptables comment and a
 * file name.
 */
export function faultTag(runId: string, faultName: string): string {
  return `fl-${runId}-${faultName}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
}
