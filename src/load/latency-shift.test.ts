import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  latencyShift,
  latencyShiftOfBins,
  normalCdf,
  normalQuantile,
  type Bin,
} from './latency-shift.js';
import { newHistogram } from './metrics.js';

/** A deterministic pseudo-random stream (mulberry32), so the samples are the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Brute force over raw samples: U with midranks, and all pairwise differences. */
function bruteForce(xs: number[], ys: number[]): { u: number; median: number } {
  let u = 0;
  const diffs: number[] = [];
  for (const y of ys)
    for (const x of xs) {
      u += y > x ? 1 : y === x ? 0.5 : 0;
      diffs.push(y - x);
    }
  diffs.sort((a, b) => a - b);
  const mid = (diffs.length + 1) / 2;
  const median = (diffs[Math.floor(mid) - 1]! + diffs[Math.ceil(mid) - 1]!) / 2;
  return { u, median };
}

const toBins = (values: number[]): Bin[] => {
  const map = new Map<number, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return [...map].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count }));
};

describe('latency shift (Mann–Whitney U, Hodges–Lehmann)', () => {
  it('knows the normal distribution', () => {
    assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-4);
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-9);
  });

  it('matches a brute-force U and median difference on samples with ties', () => {
    const rnd = random(7);
    const xs = Array.from({ length: 60 }, () => Math.floor(rnd() * 40));
    const ys = Array.from({ length: 45 }, () => Math.floor(rnd() * 40) + 6);
    const shift = latencyShiftOfBins(toBins(xs), toBins(ys))!;
    const brute = bruteForce(xs, ys);
    assert.equal(shift.u, brute.u);
    assert.equal(shift.shift_ms * 1000, brute.median);
    assert.ok(shift.ci_ms[0] * 1000 <= brute.median && brute.median <= shift.ci_ms[1] * 1000);
  });

  it('finds a real 50 ms shift in noisy latency, with an interval around it', () => {
    const rnd = random(42);
    const base = newHistogram();
    const during = newHistogram();
    for (let i = 0; i < 3000; i++) base.recordValue(Math.round(20_000 + rnd() * 10_000)); // 20–30 ms
    for (let i = 0; i < 3000; i++) during.recordValue(Math.round(70_000 + rnd() * 10_000)); // 70–80 ms
    const shift = latencyShift(base, during)!;
    assert.equal(shift.significant, true);
    assert.ok(shift.p < 1e-6, `p ${shift.p}`);
    assert.ok(Math.abs(shift.shift_ms - 50) < 1, `shift ${shift.shift_ms}`);
    assert.ok(shift.ci_ms[0] <= shift.shift_ms && shift.shift_ms <= shift.ci_ms[1]);
    assert.ok(shift.ci_ms[1] - shift.ci_ms[0] < 2, `interval ${shift.ci_ms.join('…')}`);
    assert.ok(shift.superiority > 0.99);
  });

  it('does not call noise a shift: two samples of the same distribution', () => {
    const rnd = random(3);
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 0; i < 2000; i++) a.recordValue(Math.round(10_000 + rnd() * 5_000));
    for (let i = 0; i < 2000; i++) b.recordValue(Math.round(10_000 + rnd() * 5_000));
    const shift = latencyShift(a, b)!;
    assert.equal(shift.significant, false);
    assert.ok(shift.ci_ms[0] <= 0 && shift.ci_ms[1] >= 0, `interval ${shift.ci_ms.join('…')}`);
    assert.ok(Math.abs(shift.superiority - 0.5) < 0.05);
  });

  it('says nothing on too few requests', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 0; i < 5; i++) {
      a.recordValue(1000);
      b.recordValue(2000);
    }
    assert.equal(latencyShift(a, b), undefined);
  });
});
