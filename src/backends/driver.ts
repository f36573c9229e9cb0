/**
 * Fault drivers: how a planned fault reaches its target. One driver per target; the runner
 * only speaks this interface, so the same method runs against an in-process proxy on a laptop,
 * a remote faultline/Toxiproxy server in CI, or (with the Kubernetes issue) a cluster.
 *
 * Every removal is idempotent: a fault that is already gone (its lease ran out, someone reset
 * the server) counts as removed. That is what lets rollback, signal handling and `faultline
 * recover` all try to remove the same fault without coordinating.
 */
import type { FaultLocation, LocationBase } from './location.js';
import type { PlannedFault } from './planned-fault.js';
import type { Touched } from '../journal/touched.js';

export type { Touched } from '../journal/touched.js';
export { describeTouched, touchedNothing } from '../journal/touched.js';
export type { FaultLocation, KubernetesResourceRef } from './location.js';

/** The journal record of a fault being applied: a driver may add to its location and save it. */
export interface ApplyRecord<L extends LocationBase = FaultLocation> {
  location: L;
  /** Writes the journal now (so a handle is on disk before the step that needs it is taken). */
  save(): void;
}

export interface FaultDriver<L extends LocationBase = FaultLocation> {
  readonly target: string;
  /** One line for the plan: what this target is. */
  readonly description: string;
  /** Starts the in-process proxy, or checks the remote one exists. */
  prepare(signal: AbortSignal): Promise<void>;
  /** Where `fault` will live once applied (known before applying, so it can be journaled first). */
  locate(fault: PlannedFault): L;
  /**
   * Applies the fault with a lease: the target (or an agent the driver leaves behind) removes it
   * by itself at `leaseSeconds` even if this process dies. `record` is the fault's journal entry:
   * a driver that learns more about where the fault lives (an agent's pid, an original value to
   * restore) puts it in `record.location.handle` and saves.
   */
  apply(
    fault: PlannedFault,
    leaseSeconds: number,
    signal: AbortSignal,
    record?: ApplyRecord<L>,
  ): Promise<void>;
  /** What the fault touched so far; undefined when the target cannot tell. */
  touched(location: L, signal: AbortSignal): Promise<Touched | undefined>;
  /** Removes the fault; already gone is fine. */
  remove(location: L, signal: AbortSignal): Promise<void>;
  /** True when the target shows no trace of the fault. */
  isGone(location: L, signal: AbortSignal): Promise<boolean>;
  dispose(): Promise<void>;
  /**
   * The address the system under test reaches this target through (a proxy's listen address),
   * so that faultline's own connections to it are told apart from the service's.
   */
  trafficAddress?(): string | undefined;
  /**
   * After every fault is removed and the rollbacks ran: what is on the target now that was not
   * there when the run prepared it (a toxic a rollback or another tool left, a proxy left
   * disabled). Empty when it is as it was.
   */
  leftovers?(signal: AbortSignal): Promise<string[]>;
  /**
   * What the run must name about the target whatever its verdict, at the end of the run: a
   * service target that exited on its own (a crash no fault asked for).
   */
  notices?(): string[];
}
