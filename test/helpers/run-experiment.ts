// Runs an experiment document through the real runner, in-process, the way `faultline run`
// does (parse with located errors, compile, run with a live journal), for the fault families'
// integration tests. Its point is `during`: a test observes a fault FROM THE OUTSIDE while the
// runner holds it, so the observation must start when the fault is applied and its result be
// awaited after the run — a failed observation fails the test, and a run that applied nothing
// fails it too instead of passing an observation that never ran.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findAgents } from '../../src/backends/local/agent.js';
import { localAt } from './locations.js';
import { parseExperiment } from '../../src/run-plan/read-experiment.js';
import { planExperiment } from '../../src/run-plan/from-experiment.js';
import type { Journal } from '../../src/journal/journal.js';
import { runExperiment, type RunEvent } from '../../src/runner/runner.js';

/** The runner's event for a fault in place (its record carries the location, tag, expiry). */
export type FaultApplied = Extract<RunEvent, { type: 'fault-applied' }>;

export interface RunExperimentDocOptions {
  /** The experiment's file name (errors are located in it; no file is written). */
  file: string;
  /** Where the runner keeps its live journal. */
  journalPath: string;
  /**
   * Called with the first fault-applied event, while the run goes on (the method's `wait` gives
   * it time); awaited once the run has ended. Given, it asserts that a fault was applied.
   */
  during?: (event: FaultApplied) => Promise<void>;
  /** Every event of the run, with the wall-clock time it was seen. */
  onEvent?: (event: RunEvent, at: number) => void;
  signal?: AbortSignal;
}

/** Runs `doc` (an experiment as an object, serialized to YAML) and returns its journal. */
export async function runExperimentDoc(
  doc: Record<string, unknown>,
  options: RunExperimentDocOptions,
): Promise<Journal> {
  const { file, during, onEvent } = options;
  const plan = planExperiment(parseExperiment(stringify(doc), file), { file, env: {} });
  let observed: Promise<void> | undefined;
  const journal = await runExperiment(plan, {
    journalPath: options.journalPath,
    signal: options.signal,
    onEvent: (event) => {
      onEvent?.(event, Date.now());
      if (event.type === 'fault-applied' && during && !observed) observed = during(event);
    },
  });
  if (during) {
    assert.ok(observed, `no fault was applied: ${journal.faultline.reason ?? ''}`);
    await observed;
  }
  return journal;
}

/**
 * A suite's experiment runner: each call runs `doc` (with a title and a one-minute safety limit)
 * under a file name of its own and a journal in `dir()`.
 */
export function suiteRunner(
  dir: () => string,
  prefix: string,
): (
  doc: Record<string, unknown>,
  during?: (event: FaultApplied) => Promise<void>,
  onEvent?: RunExperimentDocOptions['onEvent'],
) => Promise<Journal> {
  let runs = 0;
  return (doc, during, onEvent) => {
    const file = `${prefix}-${++runs}.yaml`;
    return runExperimentDoc(
      { title: file, safety: { maxDuration: '1m' }, ...doc },
      { file, journalPath: join(dir(), `${runs}.json`), during, onEvent },
    );
  };
}

/** The one agent process holding an applied local fault. */
export async function agentOf(event: FaultApplied): Promise<number> {
  const pids = await findAgents(localAt(event.fault.location).tag);
  assert.equal(pids.length, 1, 'one agent holds the fault');
  return pids[0]!;
}
