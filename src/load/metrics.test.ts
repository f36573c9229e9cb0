// LoadMetrics' record of requests in flight, which judges windows in which nothing completed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoadMetrics } from './metrics.js';

describe('LoadMetrics in flight', () => {
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
