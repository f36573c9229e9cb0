// LoadMetrics' record of requests in flight, which judges windows in which nothing completed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCounts, LoadMetrics, newHistogram, summarize } from './metrics.js';

describe('LoadMetrics in flight', () => {
  it('counts the unanswered requests older than an age, and forgets them once answered', () => {
    const m = new LoadMetrics(0);
    const ids = [0, 100, 200, 900].map((t) => m.began(t));
    assert.equal(m.inFlightOlderThan(1_000, 500), 3, 'sent at 0, 100 and 200 have waited > 500 ms');
    assert.equal(m.inFlightOlderThan(1_000, 850), 2);
    m.settled(ids[1]!);
    assert.equal(m.inFlightOlderThan(1_000, 500), 2);
    for (const id of ids) m.settled(id);
    assert.equal(m.inFlightOlderThan(1_000, 0), 0);
  });

  it('reports the oldest unanswered request, whatever order answers come back in', () => {
    const m = new LoadMetrics(0);
    assert.equal(m.oldestInFlightMs(100), undefined);
    const a = m.began(10);
    const b = m.began(20);
    const c = m.began(15); // left slightly out of order
    assert.equal(m.oldestInFlightMs(100), 90);
    m.settled(b);
    assert.equal(m.oldestInFlightMs(100), 90);
    m.settled(a);
    assert.equal(m.oldestInFlightMs(100), 85, 'c, sent after b but due before it');
    m.settled(a); // settling twice changes nothing
    m.settled(c);
    assert.equal(m.oldestInFlightMs(100), undefined);
    const d = m.began(50);
    assert.equal(m.oldestInFlightMs(100), 50);
    m.settled(d);
    assert.equal(m.oldestInFlightMs(100), undefined);
  });

  it('keeps a stuck request while thousands of later ones come and go', () => {
    const m = new LoadMetrics(0);
    const stuck = m.began(1);
    let previous = m.began(2);
    for (let i = 0; i < 5000; i++) {
      const id = m.began(3 + i);
      m.settled(previous);
      previous = id;
      assert.equal(m.oldestInFlightMs(10_000), 9_999);
    }
    m.settled(stuck);
    assert.equal(m.oldestInFlightMs(10_000), 10_000 - (3 + 4999));
    m.settled(previous);
    assert.equal(m.oldestInFlightMs(10_000), undefined);
  });
});

describe('summarize: percentiles within the recorded range', () => {
  it('never prints a percentile above the max or below the min', () => {
    // 998 answers at 1 ms and two at 1045.3 ms: HDR's bucket near 1 s is 0.5 ms wide, and its
    // p99.9 was that bucket's top (1045.503 ms), above the exact max.
    const h = newHistogram();
    for (let i = 0; i < 998; i++) h.recordValue(1_000);
    h.recordValue(1_045_300);
    h.recordValue(1_045_300);
    const s = summarize(h, emptyCounts(), 1);
    assert.equal(s.max, 1045.3);
    assert.ok(h.getValueAtPercentile(99.9) > h.maxValue, 'the raw HDR answer is above the max');
    assert.ok(s.p999 <= s.max, `p99.9 ${s.p999} ≤ max ${s.max}`);
    assert.equal(s.p999, 1045.3);
    assert.equal(s.p50, 1);
  });

  it('a single slow answer: every percentile is that answer', () => {
    const h = newHistogram();
    h.recordValue(100_001);
    const s = summarize(h, emptyCounts(), 1);
    assert.deepEqual(
      [s.p50, s.p90, s.p99, s.p999, s.max],
      [100.001, 100.001, 100.001, 100.001, 100.001],
    );
  });

  it('keeps the order min ≤ p50 ≤ p90 ≤ p95 ≤ p99 ≤ p99.9 ≤ max on spread-out values', () => {
    const h = newHistogram();
    let x = 12_345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      h.recordValue(1_000 + (x % 3_000_000));
    }
    const s = summarize(h, emptyCounts(), 1);
    const order = [h.minNonZeroValue / 1000, s.p50, s.p90, s.p95, s.p99, s.p999, s.max];
    for (let i = 1; i < order.length; i++) assert.ok(order[i - 1]! <= order[i]!, order.join(' ≤ '));
  });
});
