/**
 * Chaos Toolkit's `--dry probes|actions|activities|pause`: run the experiment's lifecycle
 * without executing the chosen kind of step. A dry probe or action is journaled as run, with no
 * output, and a dry probe's tolerance is taken as met (as chaoslib does); a fault (chaostoxi's
 * toxics, `disable_proxy`) counts as an action and is not applied; `pause` skips every pause.
 *
 * A dry run tests nothing about the system, so its verdict is never "held": the plan carries the
 * mode and the runner concludes *inconclusive*, saying it was a dry run.
 */
import type { PlannedActivity, PlannedStep, RunPlan } from '../run-plan/plan.js';

export const DRY_MODES = ['probes', 'actions', 'activities', 'pause'] as const;
export type DryMode = (typeof DRY_MODES)[number];

function dryActivity(a: PlannedActivity): PlannedActivity {
  return {
    ...a,
    describe: `${a.describe} (dry: not run)`,
    execute: () => Promise.resolve(null),
    verify: a.verify ? () => ({ met: true }) : undefined,
  };
}

export function applyDryMode(plan: RunPlan, mode: DryMode): RunPlan {
  const skip = (kind: 'probe' | 'action'): boolean =>
    mode === 'activities' ||
    (mode === 'probes' ? kind === 'probe' : mode === 'actions' && kind === 'action');
  const activity = (a: PlannedActivity): PlannedActivity => {
    let out = skip(a.activity) ? dryActivity(a) : a;
    if (mode === 'pause') out = { ...out, pauseBeforeMs: 0, pauseAfterMs: 0 };
    return out;
  };
  const step = (s: PlannedStep): PlannedStep[] => {
    if (s.kind === 'activity') return [activity(s)];
    if (s.kind === 'wait') return mode === 'pause' ? [] : [s];
    if (s.kind === 'fault' && skip('action'))
      return [
        dryActivity({
          kind: 'activity',
          activity: 'action',
          name: s.name,
          describe: s.describe,
          background: false,
          pauseBeforeMs: 0,
          pauseAfterMs: 0,
          execute: () => Promise.resolve(null),
          source: s.source,
        }),
      ];
    if (s.kind === 'remove-fault' && skip('action')) return [];
    return [s];
  };
  return {
    ...plan,
    hypothesis: plan.hypothesis.map(activity),
    method: plan.method.flatMap(step),
    rollbacks: plan.rollbacks.flatMap((r) => step(r) as typeof plan.rollbacks),
    dry: mode,
  };
}
