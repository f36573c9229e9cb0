/**
 * One stage of a game day as a runner plan. The experiment is compiled as usual, with each
 * fault's share scaled to the stage (a 10 % stage of a fault on 50 % of connections acts on 5 %);
 * then its faults last the whole stage (no duration of their own: their lease runs to the
 * stage's limit), a *hold* step waits for the observation period and, interactively, for the
 * operator, and a last step removes every fault. So a stage is an ordinary run — gate, journal,
 * stop conditions, clean-up, verification — and the no-leftover guarantee is the runner's.
 */
import { parseDuration, parsePercentage } from '../experiment/duration.js';
import type { Experiment } from '../experiment/schema.js';
import { planExperiment } from '../run-plan/from-experiment.js';
import type { PlannedActivity, RunPlan } from '../run-plan/plan.js';

/** The experiment with every fault's percentage multiplied by the stage's. */
export function scaleExperiment(experiment: Experiment, percentage: number): Experiment {
  const clone = structuredClone(experiment);
  if (percentage >= 100) return clone;
  for (const step of clone.method) {
    if (!('fault' in step) || typeof step.fault !== 'string') continue;
    const fault = step as { percentage?: string | undefined };
    const own = fault.percentage === undefined ? 1 : (parsePercentage(fault.percentage) ?? 1);
    fault.percentage = `${Math.round(own * percentage * 100) / 100}%`;
  }
  return clone;
}

export interface StagePlanOptions {
  file: string;
  env: NodeJS.ProcessEnv;
  percentage: number;
  /** The hold step: resolves when the stage may end (timer, operator, or the run stopping). */
  hold: (signal: AbortSignal) => Promise<unknown>;
  holdDescribe: string;
  /** Longest the hold may last (observe + max hold): bounds the run and every fault's lease. */
  holdLimitMs: number;
  title: string;
}

export function stageRunPlan(experiment: Experiment, options: StagePlanOptions): RunPlan {
  const plan = planExperiment(scaleExperiment(experiment, options.percentage), {
    file: options.file,
    env: options.env,
  });
  plan.title = options.title;
  const method = plan.method.map((step) =>
    step.kind === 'fault'
      ? {
          ...step,
          durationMs: undefined,
          describe: step.describe.replace(/ for [^ ]+$/, ' for the stage'),
        }
      : step,
  );
  const hold: PlannedActivity = {
    kind: 'activity',
    activity: 'action',
    name: 'hold the stage',
    describe: options.holdDescribe,
    background: false,
    pauseBeforeMs: 0,
    pauseAfterMs: 0,
    execute: (signal) => options.hold(signal),
    source: { type: 'gameday-hold', percentage: options.percentage },
  };
  plan.method = [
    ...method,
    hold,
    {
      kind: 'remove-fault',
      name: 'end of the stage: remove every fault',
      all: { target: undefined },
      describe: 'remove every fault',
      source: { type: 'gameday-stage-end' },
    },
  ];
  const load = plan.load;
  plan.maxDurationMs =
    (load ? load.warmupMs + load.baselineMs + load.recoveryMs : 0) + options.holdLimitMs + 60_000;
  return plan;
}

/** The steady-state pre-check: the experiment's gate alone, nothing applied. */
export function precheckPlan(
  experiment: Experiment,
  options: { file: string; env: NodeJS.ProcessEnv },
): RunPlan {
  const plan = planExperiment(structuredClone(experiment), {
    file: options.file,
    env: options.env,
  });
  plan.title = `pre-check: ${plan.title}`;
  plan.method = [];
  plan.rollbacks = [];
  plan.strategies = { ...plan.strategies, hypothesis: 'before-method-only' };
  return plan;
}

export function durationMs(text: string): number {
  return parseDuration(text) ?? 0;
}
