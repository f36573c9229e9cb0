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
import type { FaultLocation, Touched } from '../targets/fault-driver.js';

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
  error?: string | undefined;
}

export interface Journal {
  'faultline-version': string;
  platform: string;
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
    verification?: { fault: string; gone: boolean | null; error?: string | undefined }[] | undefined;
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
          phases: { before?: unknown; method?: unknown; after?: unknown; shift?: LatencyShift | undefined };
          /** Per-second series (p50/p90/p99/max, rps, errors) for the reports. */
          series: unknown[];
        }
      | undefined;
    /** The stop condition that aborted the run, and how fast every fault was gone. */
    stop?:
      | {
          condition: string;
          value: string;
          measurable_at: string;
          faults_removed_at?: string | undefined;
          /** From the breach being measurable to the last fault removed. */
          reaction_ms?: number | undefined;
        }
      | undefined;
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
