import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArrivalSchedule } from './schedule.js';

function all(schedule: ArrivalSchedule): number[] {
  const out: number[] = [];
  for (let t = schedule.next(); t !== undefined; t = schedule.next()) out.push(t);
  return out;
}

describe('ArrivalSchedule', () => {
  it('spaces a constant rate evenly', () => {
    const times = all(new ArrivalSchedule([{ durationMs: 1000, from: 10 }]));
    assert.equal(times.length, 10);
    times.forEach((t, i) => assert.ok(Math.abs(t - i * 100) < 1e-6, `${t} vs ${i * 100}`));
  });

  it('ramps linearly: a 0→100/s ramp over 2 s holds 100 arrivals, denser at the end', () => {
    const times = all(new ArrivalSchedule([{ durationMs: 2000, from: 0, to: 100 }]));
    assert.equal(times.length, 100);
    const firstHalf = times.filter((t) => t < 1000).length;
    assert.ok(
      firstHalf >= 24 && firstHalf <= 26,
      `a quarter of the arrivals in the first half: ${firstHalf}`,
    );
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!);
  });

  it('chains stages and never goes past the end', () => {
    const schedule = new ArrivalSchedule([
      { durationMs: 1000, from: 50 },
      { durationMs: 1000, from: 50, to: 150 },
      { durationMs: 500, from: 20 },
    ]);
    const times = all(schedule);
    assert.equal(times.length, schedule.expected);
    assert.equal(schedule.expected, 50 + 100 + 10);
    assert.ok(times.at(-1)! <= 2500);
  });
});
