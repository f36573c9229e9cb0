/**
 * A fault as the run plan carries it: planned by its target type's backend from the experiment's
 * fault step (src/backends/registry.ts), realised by that backend's driver. Defined here, below
 * the run plan, because backends plan and apply faults without knowing the runner.
 */
import type { Fault } from '../experiment/schema.js';
import type { UntypedToxicSpec } from '../engines/proxy/toxic-entry.js';

/** What a fault does to its target. */
export type FaultEffect =
  /** A toxic on a proxy (in-process or remote). `name` is always set. */
  | { type: 'toxic'; toxic: UntypedToxicSpec & { name: string } }
  /** The proxy is disabled: new connections refused, live ones closed. */
  | { type: 'disable' }
  /** A chaos object on a cluster (Chaos Mesh), built from the fault by the Kubernetes driver. */
  | { type: 'kubernetes'; fault: Fault }
  /** A fault of a local family (src/backends/local/family.ts): the family's driver realises it. */
  | { type: 'local'; fault: Fault }
  /** A TLS proxy presents a bad certificate to new connections (src/engines/proxy/certificates.ts). */
  | {
      type: 'certificate';
      problem: 'expired' | 'not-yet-valid' | 'wrong-host' | 'untrusted' | 'self-signed';
    };

/** A fault applied by the method. Applying does not block the method. */
export interface PlannedFault {
  kind: 'fault';
  name: string;
  /** Name of a key of {@link RunPlan.targets}. */
  target: string;
  effect: FaultEffect;
  /**
   * How long the fault stays; it is removed when this runs out and the method's end waits for
   * it. `undefined`: until the end of the run (Chaos Toolkit toxics, removed by rollbacks or at
   * the end at the latest). Either way the fault carries a lease on its proxy.
   */
  durationMs: number | undefined;
  describe: string;
  source: unknown;
  /**
   * The effect the experiment states for the fault (`shows:`): a check that passes once the
   * fault has reached the system. Polled while the fault is applied; when stated, it decides
   * the fault's efficacy (seen: proven; never seen: the run is inconclusive).
   */
  shows?: FaultEvidence | undefined;
}

/** A stated effect, ready to check: its probe run and judged in one call. */
export interface FaultEvidence {
  name: string;
  /** e.g. `GET http://127.0.0.1:8080/health`. */
  describe: string;
  /** Resolves met or not (with why not); rejects when the check could not run. */
  check(signal: AbortSignal): Promise<{ met: boolean; reason?: string | undefined }>;
}
