// The cadence rule, checked by enumerating the crons it writes with croner (an independent cron
// implementation) over three weeks: every start lies inside the window, the group's starts are
// never closer than max(meanTimeBetweenFaults, minimumGap), and the rate does not exceed it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cron } from 'croner';
import { cadence, expandField } from './cadence.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

/** Every start of the group's crons in [from, from + span), merged and sorted. */
function starts(crons: string[], from: Date, span: number): number[] {
  const out: number[] = [];
  for (const c of crons) {
    const cron = new Cron(c, { timezone: 'UTC', paused: true });
    let t: Date | null = new Date(from.getTime() - 1);
    for (;;) {
      t = cron.nextRun(t);
      if (!t || t.getTime() >= from.getTime() + span) break;
      out.push(t.getTime());
    }
  }
  return out.sort((a, b) => a - b);
}

const cases: { window: string; mean: number; gap: number; n: number; every: number }[] = [
  { window: '* 10-15 * * 1-5', mean: 2 * H, gap: 45 * MIN, n: 2, every: 4 * 60 },
  { window: '* 10-15 * * 1-5', mean: 4 * H, gap: 1 * H, n: 1, every: 4 * 60 },
  { window: '* 9-16 * * 1-5', mean: 10 * MIN, gap: 30 * MIN, n: 1, every: 30 },
  { window: '* 9-16 * * 1-5', mean: 7 * MIN, gap: 5 * MIN, n: 3, every: 30 },
  { window: '0-29 * * * *', mean: 20 * MIN, gap: 0, n: 1, every: 20 },
  { window: '* * * * *', mean: 5 * H, gap: 30 * MIN, n: 1, every: 5 * 60 },
  { window: '* 10-15 * * 1-5', mean: 2 * DAY, gap: 30 * MIN, n: 1, every: 2 * 1440 },
  { window: '30 14 * * mon-fri', mean: DAY, gap: DAY, n: 2, every: 2 * 1440 },
];

describe('cadence: the probability model as a cron cadence', () => {
  for (const c of cases) {
    it(`${c.window}, mean ${c.mean / MIN}m, gap ${c.gap / MIN}m, ${c.n} experiment(s): inside the window, never closer than the model allows`, () => {
      const { cadence: got, problem } = cadence(c.window, c.mean, c.gap, c.n);
      assert.equal(problem, undefined);
      assert.ok(got);
      assert.equal(got.crons.length, c.n);
      assert.equal(got.everyMinutes, c.every);
      const interval = Math.max(c.mean, c.gap);
      assert.ok(
        got.groupMinutes * MIN >= interval,
        `group grid ${got.groupMinutes}m ≥ ${interval / MIN}m`,
      );
      const window = new Cron(c.window, { timezone: 'UTC', paused: true });
      const from = new Date('2026-03-02T00:00:00Z'); // a Monday
      const all = starts(got.crons, from, 21 * DAY);
      assert.ok(all.length > 0, 'it fires');
      for (const t of all)
        assert.ok(window.match(new Date(t)), `${new Date(t).toISOString()} is inside the window`);
      for (let i = 1; i < all.length; i++)
        assert.ok(
          all[i]! - all[i - 1]! >= interval,
          `${new Date(all[i - 1]!).toISOString()} → ${new Date(all[i]!).toISOString()} closer than ${interval / MIN}m`,
        );
      // Each experiment on its own fires at the per-experiment period at most.
      for (const cron of got.crons) {
        const own = starts([cron], from, 21 * DAY);
        for (let i = 1; i < own.length; i++)
          assert.ok(own[i]! - own[i - 1]! >= got.everyMinutes * MIN);
      }
    });
  }

  it('refuses what a weekly cron cannot keep apart, and windows it cannot read, naming the field', () => {
    const week = cadence('* 10-15 * * 1-5', 9 * DAY, 0, 1);
    assert.equal(week.problem?.field, 'meanTimeBetweenFaults');
    assert.match(week.problem.hint, /--schedule/);
    assert.equal(cadence('0 0 10 * * 1-5', H, 0, 1).problem?.field, 'window');
    assert.match(cadence('* 10 L * *', H, 0, 1).problem?.message ?? '', /day field/);
    assert.equal(cadence('* 10 1-5 * *', 2 * DAY, 0, 1).problem?.field, 'window');
  });

  it('expands cron fields like cron does', () => {
    assert.deepEqual(expandField('*/15', 0, 59), [0, 15, 30, 45]);
    assert.deepEqual(expandField('10-20/5,1', 0, 59), [1, 10, 15, 20]);
    assert.deepEqual(
      expandField('mon-fri', 0, 7, ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(expandField('5/20', 0, 59), [5, 25, 45]);
    assert.equal(expandField('61', 0, 59), undefined);
    assert.equal(expandField('1#2', 0, 7), undefined);
  });
});
