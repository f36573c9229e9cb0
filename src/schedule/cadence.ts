/**
 * Chaos Monkey's probability model → a deterministic cron cadence, for Chaos Mesh `Schedule`
 * objects (which fire on a cron expression and have no probability).
 *
 * The rule (docs/schedule.md, "On Kubernetes"): a group fires at most once per
 * `I = max(meanTimeBetweenFaults, minimumGap)`, rounded UP to whole minutes and then to the
 * cron grid, inside the window's minutes. A group's n experiments take turns: each fires every
 * n·I, staggered by I, so the group as a whole keeps one fault per I (the same long-run rate as
 * one random pick per fault) and never two closer than the minimum gap. The grid:
 *
 * - n·I ≤ 60 min: every S minutes, S the smallest divisor of 60 ≥ n·I (so the cadence is the same
 *   across an hour boundary); minutes listed, the window's hours and days kept;
 * - n·I ≤ 24 h: every whole number of hours G = ⌈I / 1 h⌉ from the window's first hour, at its
 *   first minute; hours too close to the next day's first one dropped;
 * - longer: every D = ⌈I / 1 day⌉ days by weekday, from the window's first weekday, at its first
 *   hour and minute (at most one fault a week per experiment: cron has no "every 9 days").
 *
 * Rounding only ever lengthens the gap: the cadence never fires more often than the model's mean
 * and never closer than its minimum gap. Pure: no clock.
 */

/** Per experiment of the group (index = position in `groups[].experiments`): its cron (5 fields, no zone). */
export interface Cadence {
  crons: string[];
  /** Minutes between two faults of one experiment. */
  everyMinutes: number;
  /** Minutes between two faults of the group (experiments staggered by this much). */
  groupMinutes: number;
  /** One line for a note / annotation: what the cadence is and where it comes from. */
  description: string;
}

export interface CadenceProblem {
  field: 'window' | 'meanTimeBetweenFaults';
  message: string;
  hint: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The values of one cron field (lists, ranges, steps, names); undefined for what croner adds (L, W, #). */
export function expandField(
  text: string,
  min: number,
  max: number,
  names: string[] = [],
  nameBase = 0,
): number[] | undefined {
  const value = (part: string): number | undefined => {
    const named = names.indexOf(part.toLowerCase());
    if (named >= 0) return named + nameBase;
    return /^\d+$/.test(part) ? Number(part) : undefined;
  };
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined) return undefined;
    const step =
      stepText === undefined
        ? 1
        : /^\d+$/.test(stepText) && Number(stepText) > 0
          ? Number(stepText)
          : undefined;
    if (step === undefined) return undefined;
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*' || range === '?') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [from, to] = [value(a ?? ''), value(b ?? '')];
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    if (from === undefined || to === undefined || from < min || to > max || from > to)
      return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

const divisorsOf60 = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

function human(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return minutes > 60 ? `${Math.floor(minutes / 60)}h${minutes % 60}m` : `${minutes}m`;
}

/**
 * The cadence of a group of `experiments` experiments inside one cron `window`.
 * `meanMs`/`gapMs`: the group's meanTimeBetweenFaults and minimumGap.
 */
export function cadence(
  window: string,
  meanMs: number,
  gapMs: number,
  experiments: number,
): { cadence?: Cadence; problem?: CadenceProblem } {
  const fields = window.trim().split(/\s+/);
  if (fields.length !== 5) {
    return {
      problem: {
        field: 'window',
        message: `"${window}" is not a 5-field cron expression (minute hour day month weekday)`,
        hint: 'Chaos Mesh Schedules take the standard 5 fields here; write e.g. "* 9-16 * * 1-5" (no seconds, no @nicknames)',
      },
    };
  }
  const [minF, hourF, domF, monthF, dowF] = fields as [string, string, string, string, string];
  const minutes = expandField(minF, 0, 59);
  const hours = expandField(hourF, 0, 23);
  const dowRaw = expandField(dowF, 0, 7, DAYS);
  const bad = [
    minutes ? undefined : 'minute',
    hours ? undefined : 'hour',
    dowRaw ? undefined : 'weekday',
    expandField(domF, 1, 31) ? undefined : 'day',
    expandField(monthF, 1, 12, MONTHS, 1) ? undefined : 'month',
  ].filter(Boolean);
  if (bad.length > 0 || !minutes || !hours || !dowRaw) {
    return {
      problem: {
        field: 'window',
        message: `the ${bad.join(', ')} field of "${window}" cannot be turned into a cadence`,
        hint: 'use numbers, names, lists, ranges and steps (L, W and # are croner extensions Chaos Mesh does not parse)',
      },
    };
  }
  const weekdays = [...new Set(dowRaw.map((d) => d % 7))].sort((a, b) => a - b);
  const n = Math.max(1, experiments);
  const I = Math.max(1, Math.ceil(Math.max(meanMs, gapMs) / 60_000));
  const M0 = minutes[0]!;
  const H0 = hours[0]!;
  const source = `max(meanTimeBetweenFaults, minimumGap) = ${human(I)}${n > 1 ? ` per group, ${n} experiments taking turns` : ''}`;

  // Minute grid: periodic across hours because S divides 60.
  const S1 = divisorsOf60.find((d) => d >= n * I);
  if (S1 !== undefined) {
    const g = Math.floor(S1 / n);
    const perExp = Array.from({ length: n }, (_, k) => {
      const r = (M0 + k * g) % S1;
      return Array.from({ length: 60 / S1 }, (_, j) => r + j * S1)
        .filter((m) => minutes.includes(m))
        .sort((a, b) => a - b);
    });
    if (perExp.every((m) => m.length > 0)) {
      return {
        cadence: {
          crons: perExp.map((m) => `${m.join(',')} ${hourF} ${domF} ${monthF} ${dowF}`),
          everyMinutes: S1,
          groupMinutes: g,
          description: `every ${human(S1)} within the window${n > 1 ? `, experiments ${human(g)} apart` : ''} (${source}; rounded up to a divisor of an hour)`,
        },
      };
    }
  }

  // Hour grid, from the window's first hour; the last hours of a day dropped when too close to the next day's first.
  const G = Math.ceil(I / 60);
  if (n * G <= 24) {
    const limit = H0 + 24 - G;
    const perExp = Array.from({ length: n }, (_, k) => {
      const slots: number[] = [];
      for (let h = H0 + k * G; h < 24; h += n * G)
        if (hours.includes(h) && h <= limit) slots.push(h);
      return slots;
    });
    if (perExp.every((h) => h.length > 0)) {
      return {
        cadence: {
          crons: perExp.map((h) => `${M0} ${h.join(',')} ${domF} ${monthF} ${dowF}`),
          everyMinutes: n * G * 60,
          groupMinutes: G * 60,
          description: `every ${human(n * G * 60)} within the window from ${String(H0).padStart(2, '0')}:${String(M0).padStart(2, '0')}${n > 1 ? `, experiments ${human(G * 60)} apart` : ''} (${source}; rounded up to whole hours)`,
        },
      };
    }
  }

  // Day grid by weekday.
  if (domF !== '*' && domF !== '?') {
    return {
      problem: {
        field: 'window',
        message: `a cadence of ${human(I)} needs whole days, but "${window}" restricts the day of the month`,
        hint: 'use * for the day of the month (weekdays are fine), or a shorter meanTimeBetweenFaults',
      },
    };
  }
  const D = Math.ceil(I / 1440);
  const limit = weekdays[0]! + 7 - D;
  const perExp = Array.from({ length: n }, (_, k) => {
    const slots: number[] = [];
    for (let d = weekdays[0]! + k * D; d <= 6; d += n * D)
      if (weekdays.includes(d) && d <= limit) slots.push(d);
    return slots;
  });
  if (perExp.some((d) => d.length === 0)) {
    return {
      problem: {
        field: 'meanTimeBetweenFaults',
        message: `${n > 1 ? `${n} experiments ` : ''}${human(D * 1440)} apart do not fit in a week of the window: a cron cadence repeats every week`,
        hint: `at most one fault a week per experiment on a Schedule: lower meanTimeBetweenFaults${n > 1 ? ', split the group' : ''}, or write the cron yourself with faultline compile EXPERIMENT --platform chaos-mesh --schedule CRON`,
      },
    };
  }
  return {
    cadence: {
      crons: perExp.map((d) => `${M0} ${H0} * ${monthF} ${d.join(',')}`),
      everyMinutes: n * D * 1440,
      groupMinutes: D * 1440,
      description: `every ${human(n * D * 1440)} by weekday at ${String(H0).padStart(2, '0')}:${String(M0).padStart(2, '0')}${n > 1 ? `, experiments ${human(D * 1440)} apart` : ''} (${source}; rounded up to whole days)`,
    },
  };
}
