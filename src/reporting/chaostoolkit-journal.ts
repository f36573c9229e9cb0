/**
 * A journal written by Chaos Toolkit's `chaos run`, read as a faultline journal so
 * `faultline report` (a run's HTML, JUnit and Markdown, and `--summary` over a directory) takes a
 * team's Chaos Toolkit history as it is.
 *
 * What Chaos Toolkit records maps one to one (status, deviated, steady states, run, rollbacks);
 * what it does not record is not invented: there are no fault records (its faults are actions
 * in `run[]`), no load, no efficacy. So the verdict is taken from what the journal can show —
 * deviated (1), failed (inconclusive, 4), interrupted (130), aborted (3) — and a run Chaos
 * Toolkit calls completed and not deviated is *inconclusive*, never held: nothing in its journal
 * shows that its faults reached the system, and faultline's "held" is that claim.
 */
import type { Journal, Outcome, SteadyState } from '../journal/journal.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** True for a Chaos Toolkit journal (chaoslib's keys, no faultline block). */
export function isChaosToolkitJournal(data: unknown): data is Obj {
  return isObj(data) && typeof data['chaoslib-version'] === 'string' && !isObj(data['faultline']);
}

const EXIT: Record<Outcome, number> = {
  held: 0,
  deviated: 1,
  aborted: 3,
  inconclusive: 4,
  interrupted: 130,
  residue: 5,
};

/** The Chaos Toolkit journal as a faultline journal (the document itself is not changed). */
export function fromChaosToolkitJournal(data: Obj, file: string): Journal {
  const status = String(data['status'] ?? 'completed');
  const deviated = data['deviated'] === true;
  let outcome: Outcome;
  let reason: string;
  if (deviated) {
    outcome = 'deviated';
    reason = 'Chaos Toolkit recorded a deviation of the steady state';
  } else if (status === 'interrupted') {
    outcome = 'interrupted';
    reason = 'Chaos Toolkit recorded the run as interrupted';
  } else if (status === 'aborted') {
    outcome = 'aborted';
    reason = 'Chaos Toolkit recorded the run as aborted';
  } else if (status === 'failed') {
    outcome = 'inconclusive';
    reason = 'Chaos Toolkit recorded the run as failed (an activity or the gate failed)';
  } else {
    outcome = 'inconclusive';
    reason =
      'a Chaos Toolkit run that completed without a deviation: its journal does not show that the faults reached the system (faultline says held only when it does)';
  }
  const steady = isObj(data['steady_states']) ? data['steady_states'] : {};
  const experiment = isObj(data['experiment']) ? data['experiment'] : {};
  const runtime = isObj(experiment['runtime']) ? experiment['runtime'] : {};
  const strategy = (key: string): string => {
    const block = runtime[key];
    return isObj(block) && typeof block['strategy'] === 'string' ? block['strategy'] : 'default';
  };
  return {
    ...(data as unknown as Journal),
    'faultline-version': `(Chaos Toolkit journal, chaoslib ${String(data['chaoslib-version'])})`,
    platform: String(data['platform'] ?? ''),
    node: String(data['node'] ?? ''),
    start: String(data['start'] ?? ''),
    status: status as Journal['status'],
    deviated,
    steady_states: {
      before: steadyState(steady['before']),
      after: steadyState(steady['after']),
      during: (Array.isArray(steady['during']) ? steady['during'] : [])
        .map(steadyState)
        .filter((x): x is SteadyState => x !== null),
    },
    run: withNames(data['run']),
    rollbacks: withNames(data['rollbacks']),
    faultline: {
      run_id: `chaostoolkit-${String(data['start'] ?? file)}`,
      pid: 0,
      file,
      format: 'chaostoolkit',
      outcome,
      exit_code: EXIT[outcome],
      reason,
      strategies: {
        rollbacks: strategy('rollbacks'),
        hypothesis: strategy('hypothesis'),
        frequency_ms: 0,
        fail_fast: false,
      },
      max_duration_ms: 0,
      faults: [],
    },
  };
}

/** Chaos Toolkit keeps an activity's name in `activity.name` only; faultline's runs carry it. */
function withNames(list: unknown): Journal['run'] {
  if (!Array.isArray(list)) return [];
  return list.filter(isObj).map((r) => {
    const activity = isObj(r['activity']) ? r['activity'] : {};
    return {
      ...(r as unknown as Journal['run'][number]),
      name: typeof r['name'] === 'string' ? r['name'] : String(activity['name'] ?? ''),
    };
  });
}

function steadyState(value: unknown): SteadyState | null {
  if (!isObj(value)) return null;
  return { ...(value as unknown as SteadyState), probes: withNames(value['probes']) };
}
