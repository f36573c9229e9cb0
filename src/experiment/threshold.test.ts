import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCounts, newHistogram, summarize } from '../load/metrics.js';
import { holds, parseThreshold } from './threshold.js';

describe('thresholds', () => {
  it('parses the grammar', () => {
    const t = parseThreshold('p99 < 2s over 10s');
    assert.ok(t.ok);
    assert.deepEqual(
      { ...t.threshold },
      {
        source: 'p99 < 2s over 10s',
        metric: 'p99',
        op: '<',
        value: 2000,
        overMs: 10_000,
        forMs: undefined,
      },
    );
    const e = parseThreshold('error_rate > 5% for 5s');
    assert.ok(e.ok && e.threshold.value === 0.05 && e.threshold.forMs === 5000);
    const r = parseThreshold('rps >= 150');
    assert.ok(r.ok && r.threshold.value === 150);
  });

  it('rejects bad thresholds with a message and a hint', () => {
    for (const [text, message] of [
      ['p98 < 2s', /unknown metric/],
      ['p99 << 2s', /comparison/],
      ['p99 < 2', /duration/],
      ['error_rate < 0.01', /percentage/],
      ['rps > fast', /number/],
      ['p99 < 2s within 10s', /unexpected/],
      ['p99', /not a threshold/],
    ] as const) {
      const parsed = parseThreshold(text);
      assert.ok(!parsed.ok, text);
      assert.match(parsed.message, message);
      assert.ok(parsed.hint, `a hint for ${text}`);
    }
  });

  it('evaluates against a summary', () => {
    const h = newHistogram();
    for (let i = 1; i <= 100; i++) h.recordValue(i * 10_000); // 10 ms .. 1 s
    const counts = { ...emptyCounts(), completed: 100, scheduled: 100, errors: 2 };
    const summary = summarize(h, counts, 2);
    const check = (text: string): boolean => {
      const t = parseThreshold(text);
      assert.ok(t.ok);
      return holds(t.threshold, summary);
    };
    assert.equal(check('p99 < 2s'), true);
    assert.equal(check('p50 < 100ms'), false);
    assert.equal(check('error_rate < 1%'), false);
    assert.equal(check('error_rate <= 2%'), true);
    assert.equal(check('rps > 40'), true);
  });
});
