/**
 * The run plan: what the runner executes, whatever format the experiment was written in.
 *
 * faultline's own format (src/experiment/schema.ts) and Chaos Toolkit experiments
 * (src/experiment/chaostoolkit/) are both compiled into a {@link RunPlan}, so the lifecycle,
 * the journal, the strategies and the no-leftover-fault guarantee are written once. A plan is
 * fully resolved: configuration and `${var}`s are substituted, durations are milliseconds.
 */
import type { Fault, Target } from '../experiment/schema.js';
import type { ToxicSpec } from '../faults/proxy/toxic-entry.js';
import type { Threshold } from '../load/threshold.js';

/** Load kept on the service for the whole run, with the thresholds and stop conditions on it. */
export interface PlannedLoad {
  url: string;
  method: string;
  headers?: Record<string, string> | undefined;
  body?: string | readonly string[] | undefined;
  /** Requests per second (open model). */
  rate: number;
  connections: number;
  timeoutMs: number;
  /** Measured before the method: the gate window and the baseline. */
  baselineMs: number;
  /** Measured after the method, once faults are gone. */
  recoveryMs: number;
  /** How close to the baseline latency must come back (0.1 = within 10 %). */
  recoveryTolerance: number;
  /** The generator's send window (undefined: adaptive). */
  sendWindowMs?: number | undefined;
  thresholds: Threshold[];
  abortWhen: Threshold[];
}

/** The judgement of one probe output against its expectation (tolerance). */
export interface Verdict {
  met: boolean;
  /** Why not, in a sentence a user understands ("status 503, expected 200"). */
  reason?: string | undefined;
}

/** A probe or an action: something the runner executes and records. */
export interface PlannedActivity {
  kind: 'activity';
  activity: 'probe' | 'action';
  name: string;
  /** One line for the terminal and the dry-run plan: what will be done, e.g. `GET http://…/health`. */
  describe: string;
  background: boolean;
  pauseBeforeMs: number;
  pauseAfterMs: number;
  /** Runs it and resolves with its output (JSON-serialisable). Rejects when it could not run. */
  execute(signal: AbortSignal): Promise<unknown>;
  /**
   * Judges the output. Present on hypothesis probes, and on method probes/actions that state an
   * expectation (Chaos Toolkit ignores method tolerances; faultline checks them).
   */
  verify?: ((output: unknown, signal: AbortSignal) => Promise<Verdict> | Verdict) | undefined;
  /** The activity as written (after substitution), copied into the journal. */
  source: unknown;
  /** Hypothesis probes: the checks it takes part in (default all). */
  phases?: ReadonlySet<'before' | 'during' | 'after'> | undefined;
}

/** What a fault does to its target. */
export type FaultEffect =
  /** A toxic on a proxy (in-process or remote). `name` is always set. */
  | { type: 'toxic'; toxic: ToxicSpec & { name: string } }
  /** The proxy is disabled: new connections refused, live ones closed. */
  | { type: 'disable' }
  /** A local process is frozen with SIGSTOP, and resumed with SIGCONT. */
  | { type: 'pause-process' }
  /** A chaos object on a cluster (Chaos Mesh), built from the fault by the Kubernetes driver. */
  | { type: 'kubernetes'; fault: Fault }
  /** A fault of a local family (src/faults/local/family.ts): the family's driver realises it. */
  | { type: 'local'; fault: Fault }
  /** A TLS proxy presents a bad certificate to new connections (src/faults/proxy/certificates.ts). */
  | { type: 'certificate'; problem: 'expired' | 'not-yet-valid' | 'wrong-host' | 'untrusted' | 'self-signed' };

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
}

/** Removes an earlier fault by name (Chaos Toolkit `delete_toxic`, `enable_proxy`, `reset`). */
export interface PlannedFaultRemoval {
  kind: 'remove-fault';
  name: string;
  /** Remove every fault on this target (or on all targets when undefined) rather than one by name. */
  all?: { target: string | undefined } | undefined;
  /** Fault name to remove (when not `all`). */
  fault?: string | undefined;
  describe: string;
  source: unknown;
}

export interface PlannedWait {
  kind: 'wait';
  name: string;
  ms: number;
  describe: string;
}

export type PlannedStep = PlannedActivity | PlannedFault | PlannedFaultRemoval | PlannedWait;

export type RollbackStrategy = 'default' | 'always' | 'never' | 'deviated';
export type HypothesisStrategy =
  | 'default'
  | 'before-method-only'
  | 'after-method-only'
  | 'during-method-only'
  | 'continuously'
  | 'skip';

export interface RunPlan {
  title: string;
  description: string | undefined;
  tags: string[];
  environment: string | undefined;
  /** Where the experiment came from. */
  format: 'faultline' | 'chaostoolkit';
  file: string;
  /** The experiment as loaded, for the journal. */
  experiment: unknown;
  targets: Record<string, Target>;
  /** Steady-state probes; each has `verify`. */
  hypothesis: PlannedActivity[];
  method: PlannedStep[];
  /** Rollback steps: actions, and fault removals (Chaos Toolkit `delete_toxic`). */
  rollbacks: (PlannedActivity | PlannedFaultRemoval)[];
  strategies: {
    rollbacks: RollbackStrategy;
    hypothesis: HypothesisStrategy;
    /** Wait between two during-method hypothesis checks. */
    frequencyMs: number;
    /** Stop the method at the first during-method deviation. */
    failFast: boolean;
  };
  /** Hard limit on the run; faults' leases never outlive it. */
  maxDurationMs: number;
  load?: PlannedLoad | undefined;
  /** Valid but suspicious (a hypothesis that only checks status codes, …): shown before a run. */
  warnings?: string[] | undefined;
  /**
   * Line and column in the source file of a JSON path of the experiment (`method[2].duration`),
   * when the plan was loaded from a file: checks made after loading (the cluster guardrails)
   * report file:line:column like load-time ones.
   */
  locate?: ((path: string) => { line?: number | undefined; column?: number | undefined }) | undefined;
}
