/**
 * A backend: everything faultline knows about one target type, in one place. The loader asks it
 * for its load-time checks, the run plan for how it plans a fault, the runner for its driver,
 * and `faultline recover` / `faultline halt` for how a journaled fault is removed from its
 * location alone. Nothing outside src/backends/ switches on a target type: it asks the registry
 * (./registry.ts).
 */
import type { ValidationIssue } from '../errors.js';
import type { Fault, Target } from '../experiment/schema.js';
import type { FaultDriver } from './driver.js';
import type { FaultLocation, KubernetesLocation } from './location.js';
import type { PlannedFault } from './planned-fault.js';
import type { KubernetesRunOptions } from './kubernetes/driver.js';
import type { ProxyCollection } from '../engines/proxy/proxy-collection.js';

export type TargetType = Target['type'];
export type FaultType = Fault['fault'];
export type TargetOf<T extends TargetType> = Extract<Target, { type: T }>;
export type LocationOf<T extends TargetType> = Extract<FaultLocation, { backend: T }>;

/** A part of the experiment as written, before the schema has checked it. */
export type RawObject = Record<string, unknown>;

/** What a load-time check of one fault step sees. */
export interface StepCheck {
  /** The step as written. */
  step: RawObject;
  /** Its JSON path (`method[2]`). */
  path: string;
  /** Its target as written, and its name. */
  target: RawObject;
  targetName: string;
  /** Every target as written (Kubernetes peers). */
  targets: Record<string, unknown>;
}

/** What a backend sees of the run plan for its checks before anything is applied. */
export interface PlanView {
  format: 'faultline' | 'chaostoolkit';
  /** The experiment as loaded. */
  experiment: unknown;
  file: string;
  /** Line and column of a JSON path of the experiment, for checks made after loading. */
  locate?:
    ((path: string) => { line?: number | undefined; column?: number | undefined }) | undefined;
}

/** What a backend's driver is created with. */
export interface DriverContext {
  /** The run's id: part of every fault's tag and label. */
  runId: string;
  title: string;
  /** The faults planned on this target, in method order. */
  faults: readonly PlannedFault[];
  /** Every target of the run. */
  targets: Readonly<Record<string, Target>>;
  /** How faults on kubernetes targets reach the cluster (absent: they are refused). */
  kubernetes?: KubernetesRunOptions | undefined;
  /** Where in-process proxies are created (the runner's collection, watched for metrics). */
  proxies?: ProxyCollection | undefined;
  /** The plan, for checks across every target (the cluster guardrails). */
  plan: PlanView;
}

/** What removing a journaled fault with no runner may use. */
export interface RecoverContext {
  signal?: AbortSignal | undefined;
  /** Bearer token of remote proxy servers. */
  token?: string | undefined;
  /** Deletes a chaos object on a cluster (`--kubernetes`); absent: such faults are not removed. */
  kubernetes?:
    ((location: KubernetesLocation, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

export interface Backend<T extends TargetType> {
  readonly type: T;
  /** The fault types a target of this type takes. */
  readonly faults: readonly FaultType[];
  /** How a user declares such a target, for hints ("a redis target (type: redis, url)"). */
  readonly declare: string;
  /**
   * `in-process`: its faults live inside the runner's process (an in-process proxy or resolver)
   * and die with it — only the runner, or its death, removes them. `outside`: they outlive the
   * runner (a server, a process, a cluster) and `recover` removes them from their location.
   */
  readonly lives: 'in-process' | 'outside';
  /** Started for the run even when no fault uses it (a proxy's address, a declared service). */
  readonly startedWithoutFaults?: boolean | undefined;
  /**
   * Which of the Kubernetes-style direction keys (`direction`, `peer`, `peerHosts`) a fault step
   * on this target may carry (default none), and what to say instead when one is given.
   */
  readonly directionKeys?: readonly ('direction' | 'peer' | 'peerHosts')[] | undefined;
  readonly directionHint?: string | undefined;
  /** Load-time checks of a target declaration: located problems (JSON paths). */
  targetIssues?(target: RawObject, path: string): ValidationIssue[];
  /** Load-time checks of a fault step on a target of this type. */
  stepIssues?(check: StepCheck): ValidationIssue[];
  /** A fault step → the planned fault(s) (a proxy fault on `stream: both` gives two). */
  planFault(fault: Fault, index: number, targets: Record<string, Target>): PlannedFault[];
  /** Checks made once for all targets of this type before any driver is created (guardrails). */
  preflight?(context: DriverContext): void;
  createDriver(name: string, spec: TargetOf<T>, context: DriverContext): FaultDriver<LocationOf<T>>;
  /**
   * Removes a fault knowing only its journaled location; already gone counts as removed. Throws
   * when it could not be removed. In-process backends have nothing left once their runner died.
   */
  recover(location: LocationOf<T>, context: RecoverContext): Promise<void>;
}
