/**
 * The schedule file (`faultline schedule SCHEDULE.yaml`): the single source of its types.
 * Chaos Monkey's model — within working hours, each target group gets a fault now and then at
 * random (a mean time between faults), never twice within a minimum gap — plus blackout dates,
 * a cap on concurrent experiments, a health gate that keeps chaos out of incidents, and the
 * leash: until `unleashed: true` (or `--unleash`), it only logs what it would have done.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { parseDuration } from '../experiment/duration.js';

const Duration = z
  .string({ error: 'expected a duration such as "2h"' })
  .refine((s) => parseDuration(s) !== undefined, {
    error: 'expected a duration such as "30m", "2h" or "90s"',
  });

const CronText = z.string().refine(
  (s) => {
    try {
      new Cron(s, { paused: true });
      return true;
    } catch {
      return false;
    }
  },
  {
    error:
      'expected a cron expression (minute hour day-of-month month day-of-week), e.g. "* 9-16 * * 1-5"',
  },
);

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date YYYY-MM-DD' });

export const Blackout = z.union([
  Day,
  z.strictObject({ from: Day, to: Day, reason: z.string().optional() }),
]);

export const TargetGroup = z.strictObject({
  name: z.string().min(1),
  experiments: z.array(z.string().min(1)).min(1).meta({
    description: 'Experiment files, relative to the schedule; one is picked at random per fault.',
  }),
  meanTimeBetweenFaults: Duration.meta({
    description:
      "On average one fault per this much time inside the windows (a Poisson process, as Chaos Monkey's probability).",
  }),
  minimumGap: Duration.default('30m').meta({
    description: 'Never two faults on this group closer than this.',
  }),
});

export const Schedule = z.strictObject({
  title: z.string().min(1),
  timezone: z
    .string()
    .default('UTC')
    .meta({ description: 'IANA time zone of the windows and blackout dates.' }),
  windows: z.array(CronText).min(1).default(['* 9-16 * * 1-5']).meta({
    description:
      'Minutes in which chaos may start (cron); default weekdays 09:00–16:59, when people are there to respond.',
  }),
  blackouts: z.array(Blackout).default([]),
  maxConcurrent: z.number().int().min(1).default(1),
  unleashed: z
    .boolean()
    .default(false)
    .meta({ description: 'false (default): log what would run, run nothing.' }),
  healthGate: z
    .strictObject({
      probes: z
        .array(
          z.strictObject({
            url: z.url(),
            status: z.number().int().default(200),
            timeout: Duration.default('3s'),
          }),
        )
        .min(1),
    })
    .optional()
    .meta({
      description:
        'An outage checker: every probe must answer before a fault starts (no chaos during an incident).',
    }),
  groups: z.array(TargetGroup).min(1),
  tick: Duration.default('1m').meta({ description: 'How often the scheduler draws.' }),
});
export type Schedule = z.infer<typeof Schedule>;

export const SCHEDULE_KEYS = [
  'title',
  'timezone',
  'windows',
  'blackouts',
  'from',
  'to',
  'reason',
  'maxConcurrent',
  'unleashed',
  'healthGate',
  'probes',
  'url',
  'status',
  'timeout',
  'groups',
  'name',
  'experiments',
  'meanTimeBetweenFaults',
  'minimumGap',
  'tick',
];
