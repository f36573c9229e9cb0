/**
 * The game day plan (`faultline gameday PLAN.yaml`): the single source of its types. A game day
 * is a rehearsal with people in the room — an objective and a hypothesis written down before
 * anything is broken, who does what, the agreed blast radius and kill switch, how success is
 * judged, the experiments, and the stages that widen the fault step by step (10 % → 50 % →
 * 100 %), each watched for a while before the operator decides to go on.
 */
import { z } from 'zod';
import { parseDuration } from '../experiment/duration.js';
import { parseThreshold } from '../experiment/threshold.js';

const Duration = z
  .string({ error: 'expected a duration such as "30s"' })
  .refine((s) => parseDuration(s) !== undefined, {
    error: 'expected a duration such as "30s", "2m" or "500ms"',
  })
  .meta({ description: 'A duration with a unit: 500ms, 30s, 2m.' });

const People = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .meta({ description: 'A name, or several.' });

export const SuccessCriterion = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .meta({ description: 'What is judged, in the team\'s words ("errors stay under 1 %").' }),
    threshold: z
      .string()
      .refine((s) => parseThreshold(s).ok, {
        error: 'expected a threshold such as "p99 < 2s" or "error_rate < 1%"',
      })
      .optional()
      .meta({
        description:
          "Measured from the experiments' load over each stage (p50/p90/p99/max/mean, error_rate, rps).",
      }),
    manual: z.string().min(1).optional().meta({
      description:
        'Judged by people (an alert that must fire, a failover): the scribe records it with `criterion N met|missed: …`.',
    }),
  })
  .refine((c) => c.threshold !== undefined || c.manual !== undefined, {
    error: 'a criterion needs a threshold (measured) or manual (judged by the scribe)',
  });
export type SuccessCriterion = z.infer<typeof SuccessCriterion>;

export const Stage = z.strictObject({
  name: z.string().min(1).optional().meta({ description: 'Default: the percentage ("10%").' }),
  percentage: z.number().gt(0).max(100).meta({
    description:
      "How much of the fault: the share of connections/requests on proxy targets (multiplies each fault's own percentage).",
  }),
  observe: Duration.meta({
    description:
      'How long the stage is watched before the operator is asked to continue (non-interactive: how long it lasts).',
  }),
});
export type Stage = z.infer<typeof Stage>;

export const GameDayPlan = z.strictObject({
  title: z.string().min(1),
  objective: z
    .string()
    .min(1)
    .meta({ description: 'Why this game day: what the team wants to learn.' }),
  hypothesis: z.string().min(1).meta({
    description:
      'What the team expects, written before the fault ("orders queue and are processed on recovery").',
  }),
  roles: z.strictObject({
    operator: People.meta({
      description: 'Applies and removes faults; the only one who types continue/abort.',
    }),
    scribe: People.meta({ description: 'Types observations into the log.' }),
    observer: People.optional(),
    oncall: People.optional().meta({ description: 'Who would be paged: watches the alerts.' }),
  }),
  blastRadius: z.string().min(1).meta({
    description: 'What may be touched, as agreed (environment, services, share of traffic).',
  }),
  killSwitch: z.string().min(1).meta({
    description:
      'How to stop everything at once (typing abort, HALT in the control room, faultline halt), and the stop conditions.',
  }),
  successCriteria: z
    .array(SuccessCriterion)
    .min(1, { error: 'at least one success criterion: how will you know it went well?' }),
  experiments: z.array(z.string().min(1)).min(1).meta({
    description:
      'Experiment files (faultline format), relative to the plan; every stage runs each of them in turn.',
  }),
  stages: z
    .array(Stage)
    .min(1)
    .default([{ percentage: 100, observe: '60s' }]),
  maxHold: Duration.default('15m').meta({
    description:
      "Longest a stage is held waiting for the operator; then it ends aborted (the faults' leases never outlive it).",
  }),
  actionItems: z
    .array(z.strictObject({ title: z.string().min(1), owner: z.string().min(1) }))
    .default([])
    .meta({ description: 'Known before the day; the scribe adds more with `action: … @owner`.' }),
});
export type GameDayPlan = z.infer<typeof GameDayPlan>;

export const GAMEDAY_KEYS = [
  'title',
  'objective',
  'hypothesis',
  'roles',
  'operator',
  'scribe',
  'observer',
  'oncall',
  'blastRadius',
  'killSwitch',
  'successCriteria',
  'name',
  'threshold',
  'manual',
  'experiments',
  'stages',
  'percentage',
  'observe',
  'maxHold',
  'actionItems',
  'owner',
];
