/**
 * The run plan: what the runner executes, whatever format the experiment was written in.
 *
 * faultline's own format (src/experiment/schema.ts) and Chaos Toolkit experiments
 * (src/experiment/chaostoolkit/) are both compiled into a {@link RunPlan}, so the lifecycle,
 * the journal, the strategies and the no-leftover-fault guarantee are written once. A plan is
 * fully resolved: configuration and `${var}`s are substituted, durations are milliseconds.
 */
import type { Target } from '../experiment/schema.js';
import type { PlannedFault } from '../backends/planned-fault.js';
import type { Threshold } from '../experiment/threshold.js';
import type { ServiceRoutes } from './service-routes.js';

export type { FaultEffect, PlannedFault } from '../backends/planned-fault.js';

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
  /** Sent before the baseline and judged by nothing (0: none): the service warms up first. */
  warmupMs: number;
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

/** What one check of a stop condition found. */
export interface StopReading {
  /** True when this check breaches the condition (before its `for`). */
  breached: boolean;
  /** The value as a person reads it: `0.042 (job="api")`, `status 503`, `1 alert firing: …`. */
  value: string;
}

/**
 * A stop condition on the system's own signals (`safety.stopWhen`): a Prometheus query, an HTTP
 * check, a firing Alertmanager alert, a command. The runner checks it every `everyMs` during the
 * method (src/safety/stop-conditions.ts); a breach that lasts `forMs` removes every fault.
 */
export interface PlannedStopCondition {
  name: string;
  kind: 'prometheus' | 'http' | 'alertmanager' | 'command';
  /** One line for the dry run, the terminal and the control room. */
  describe: string;
  everyMs: number;
  forMs: number;
  timeoutMs: number;
  /** A check that cannot be evaluated: stop the run (after 3 in a row), or go on unguarded. */
  onError: 'stop' | 'continue';
  /** The CloudWatch alarm that watches the same signal (for `compile --target aws-fis`). */
  cloudwatchAlarm?: string | undefined;
  /** One check; rejects when it cannot be evaluated. Honors the signal (timeout, the run's end). */
  evaluate(signal: AbortSignal): Promise<StopReading>;
  /** The condition as written (after substitution). */
  source: unknown;
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
  /** Stop conditions on the system's own signals (`safety.stopWhen`), beside the load's. */
  stopWhen?: PlannedStopCondition[] | undefined;
  /**
   * The Kubernetes Services the load and HTTP probes/actions name by their cluster DNS names,
   * and where the run routes them (in-cluster, or a port-forward): src/run-plan/service-routes.ts.
   */
  services?: ServiceRoutes | undefined;
  /** Valid but suspicious (a hypothesis that only checks status codes, …): shown before a run. */
  warnings?: string[] | undefined;
  /**
   * Chaos Toolkit's `--dry` mode the plan was made with (its probes, actions or pauses are not
   * run): the verdict is inconclusive whatever is seen.
   */
  dry?: 'probes' | 'actions' | 'activities' | 'pause' | undefined;
  /**
   * Line and column in the source file of a JSON path of the experiment (`method[2].duration`),
   * when the plan was loaded from a file: checks made after loading (the cluster guardrails)
   * report file:line:column like load-time ones.
   */
  locate?:
    ((path: string) => { line?: number | undefined; column?: number | undefined }) | undefined;
}
