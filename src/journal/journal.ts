/**
 * The run journal: a superset of Chaos Toolkit's journal (same top-level keys and meanings,
 * so tools that read those keep working), plus faultline's own record of every fault with its
 * location, applied/removed times and the traffic it touched.
 *
 * The journal is the ledger of applied faults: it is written to disk *before* a fault is
 * applied and again when it is removed, with an atomic rename, so a runner killed at any
 * instant leaves a file that `faultline recover` can act on.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LatencyShift } from '../load/latency-shift.js';
import type { FaultLocation } from '../backends/location.js';
import type { Touched } from './touched.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'aborted' | 'interrupted';

/** faultline's verdict, from which the exit code follows. */
export type Outcome =
  | 'held' // every hypothesis held (exit 0)
  | 'deviated' // a hypothesis deviated before, during or after the method (exit 1)
  | 'aborted' // a safety limit stopped the run (exit 3)
  | 'inconclusive' // the gate failed, an action or fault could not be applied, a probe could not run, or a fault touched no traffic (exit 4)
  | 'interrupted' // a signal stopped the run, after rollback (exit 130)
  | 'residue'; // a fault could not be removed: run `faultline recover` (exit 70)

export interface ActivityRun {
  activity: unknown;
  name: string;
  output: unknown;
  start: string;
  end: string;
  duration: number;
  status: 'succeeded' | 'failed' | 'interrupted' | 'skipped';
  exception?: string[] | undefined;
  tolerance_met?: boolean | undefined;
  reason?: string | undefined;
}

export interface SteadyState {
  steady_state_met: boolean;
  probes: ActivityRun[];
}

export interface FaultRecord {
  name: string;
  target: string;
  describe: string;
  location: FaultLocation;
  state: 'applying' | 'applied' | 'removed' | 'failed' | 'residue';
  applied_at?: string | undefined;
  expires_at?: string | undefined;
  removed_at?: string | undefined;
  touched?: Touched | undefined;
  /**
   * How the run established that the fault reached the system under test: `counted` (its
   * target counted the service's traffic or items it acted on), `load-shift` (its target cannot
   * count, and the load's latency or errors moved in the fault's window against the baseline),
   * `stated-effect` (the effect the experiment states for the fault, `shows:`, was seen while it
   * was applied; when stated it decides, whatever was counted), or `none` — then the run is
   * inconclusive, never held.
   */
  efficacy?:
    { by: 'counted' | 'load-shift' | 'stated-effect' | 'none'; detail: string } | undefined;
  error?: string | undefined;
}

/** One stop condition on a signal, as the run checked it. */
export interface StopConditionRecord {
  name: string;
  kind: string;
  describe: string;
  every_ms: number;
  for_ms: number;
  on_error: 'stop' | 'continue';
  /**
   * ok (last check not breaching), breaching (breached, waiting out its `for`), breached (it
   * stopped the run), unknown (the last check could not be evaluated), not checked.
   */
  state: 'not checked' | 'ok' | 'breaching' | 'breached' | 'unknown';
  checks: number;
  /** Checks that could not be evaluated. */
  errors: number;
  first_check_at?: string | undefined;
  last_check_at?: string | undefined;
  last_value?: string | undefined;
  breaching_since?: string | undefined;
  /** Each stretch of checks that could not be evaluated (the first 20), with the last error. */
  unevaluable?:
    { from: string; to?: string | undefined; checks: number; error: string }[] | undefined;
}

/** One Service named by a load or probe URL, as the run reached it (`faultline.services[]`). */
export interface ServiceReachRecord {
  /** `name.namespace:port`. */
  service: string;
  /** in-cluster: the URL as written, in a pod; port-forward: opened by the run; as-written: neither. */
  via: 'in-cluster' | 'port-forward' | 'as-written';
  /** Port-forward: the pod and its port the Service was resolved to. */
  pod?: string | undefined;
  pod_port?: number | undefined;
  /** Port-forward: the local address the load and probes used. */
  local?: string | undefined;
  /** Port-forward: connections relayed (filled in when it closed). */
  connections?: number | undefined;
  /** Port-forward: what broke while the run used it. */
  problems?: string[] | undefined;
}

export interface Journal {
  'faultline-version': string;
  /**
   * Chaos Toolkit experiments only: the chaoslib journal format this journal follows (1.45.0),
   * which Chaos Toolkit's own report tooling (`chaos report`) requires and matches its templates
   * on. It names the format, not a chaoslib that ran.
   */
  'chaoslib-version'?: string | undefined;
  platform: string;
  /** The host the run was made from (Chaos Toolkit's meaning); Node's version is `faultline.node_version`. */
  node: string;
  experiment: unknown;
  start: string;
  status: RunStatus;
  deviated: boolean;
  steady_states: { before: SteadyState | null; after: SteadyState | null; during: SteadyState[] };
  run: ActivityRun[];
  rollbacks: ActivityRun[];
  end?: string | undefined;
  duration?: number | undefined;
  faultline: {
    run_id: string;
    pid: number;
    /** Node.js's version (absent in journals written before it moved out of `node`). */
    node_version?: string | undefined;
    /**
     * When the runner's process started (src/shared/process-identity.ts): with the pid, who the
     * runner is — a pid reused by another process is not it. Absent in older journals.
     */
    pid_start?: string | undefined;
    /** The directory the run was started in. */
    cwd?: string | undefined;
    /**
     * The run's file in the machine-wide registry (src/safety/registry.ts), while it is there:
     * removed when the run ends with every fault removed, or by `faultline recover`.
     */
    registration?: string | undefined;
    file: string;
    format: 'faultline' | 'chaostoolkit';
    outcome?: Outcome | undefined;
    exit_code?: number | undefined;
    /** Why the run ended the way it did, in a sentence. */
    reason?: string | undefined;
    strategies: { rollbacks: string; hypothesis: string; frequency_ms: number; fail_fast: boolean };
    max_duration_ms: number;
    faults: FaultRecord[];
    /** After rollback: each fault checked gone from its target. */
    verification?:
      { fault: string; gone: boolean | null; error?: string | undefined }[] | undefined;
    /** The load kept on the service, when the experiment has one. */
    load?:
      | {
          url: string;
          rate: number;
          /**
           * When the load started (ISO 8601): second 0 of `series`. Absent in journals written
           * before it was recorded (reports then fall back to the first baseline check).
           */
          started_at?: string | undefined;
          total: unknown;
          health: unknown;
          /**
           * `shift`: the method's latency against the baseline's — Mann–Whitney U, the
           * Hodges–Lehmann shift and its interval (src/load/latency-shift.ts).
           */
          phases: {
            before?: unknown;
            method?: unknown;
            after?: unknown;
            shift?: LatencyShift | undefined;
          };
          /** Per-second series (p50/p90/p99/max, rps, errors) for the reports. */
          series: unknown[];
        }
      | undefined;
    /** The stop condition that aborted the run, and how fast every fault was gone. */
    stop?:
      | {
          condition: string;
          value: string;
          /** When the breach became measurable (load) or was detected (a signal's check). */
          measurable_at: string;
          /** Stop conditions on signals: prometheus, http, alertmanager, command. */
          kind?: string | undefined;
          /** Signals: the check that found the breach (with its `for`) came back. */
          detected_at?: string | undefined;
          /** Signals with `for`: the first check of the breach that lasted. */
          breaching_since?: string | undefined;
          /** Signals: the run stopped because the condition could not be evaluated. */
          unevaluable?: boolean | undefined;
          faults_removed_at?: string | undefined;
          /** From the breach being measurable (detected) to the last fault removed. */
          reaction_ms?: number | undefined;
        }
      | undefined;
    /**
     * The stop conditions on the system's own signals (`safety.stopWhen`), as checked during the
     * method: how often, the last value, and every stretch in which one could not be evaluated.
     */
    stop_conditions?: StopConditionRecord[] | undefined;
    /**
     * After the rollbacks: the system compared with its state before the run, whatever removed
     * (or failed to remove) the faults — targets left with something that was not there before,
     * and the re-measured load against the baseline. Any finding is residue (exit 5).
     */
    after_rollbacks?:
      | {
          checks: { what: string; residue: boolean; detail: string }[];
        }
      | undefined;
    /**
     * How the load and probes reached the Kubernetes Services their URLs name: in-cluster, or
     * through the port-forward the run opened (its pod and local address), with what broke.
     */
    services?: ServiceReachRecord[] | undefined;
    /**
     * What a reader must not miss although it did not decide the verdict: a hypothesis that
     * only checks status codes, an untrustworthy load measurement, a service that crashed.
     */
    warnings?: string[] | undefined;
    /** Set by `faultline recover`. */
    recovered_at?: string | undefined;
  };
}

/** Writes the journal atomically (temp file + rename); synchronous so it is on disk before we act. */
export function writeJournal(path: string, journal: Journal): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(journal, null, 2)}\n`);
  renameSync(tmp, path);
}
