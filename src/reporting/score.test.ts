import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityRun, Journal, Outcome } from '../runner/journal.js';
import { resilienceByService, resilienceOfJournal } from './score.js';

const check = (name: string, met: boolean): ActivityRun => ({ activity: {}, name, output: null, start: '', end: '', duration: 0, status: 'succeeded', tolerance_met: met });

/** A journal with the given verdict and checks (`during` holds one check per entry). */
function journal(opts: { title?: string; tags?: string[]; outcome?: Outcome; start?: string; before?: boolean[]; during?: boolean[][]; after?: boolean[] }): Journal {
  const probes = (results: boolean[]): ActivityRun[] => results.map((met, i) => check(`probe ${i}`, met));
  return {
    'faultline-version': '0',
    platform: 'test',
    node: 'v20',
    experiment: { title: opts.title ?? 'exp', tags: opts.tags ?? ['svc'] },
    start: opts.start ?? '2026-01-01T00:00:00.000Z',
    status: 'completed',
    deviated: opts.outcome === 'deviated',
    steady_states: {
      before: opts.before ? { steady_state_met: opts.before.every(Boolean), probes: probes(opts.before) } : null,
      after: opts.after ? { steady_state_met: opts.after.every(Boolean), probes: probes(opts.after) } : null,
      during: (opts.during ?? []).map((d) => ({ steady_state_met: d.every(Boolean), probes: probes(d) })),
    },
    run: [],
    rollbacks: [],
    faultline: {
      run_id: 'r',
      pid: 1,
      file: 'f.yaml',
      format: 'faultline',
      outcome: opts.outcome,
      strategies: { rollbacks: 'default', hypothesis: 'default', frequency_ms: 1000, fail_fast: false },
      max_duration_ms: 1000,
      faults: [],
    },
  };
}

describe('resilience score of a run (Litmus probe success percentage)', () => {
  const cases: { name: string; j: Journal; percent: number | null; passed: number; total: number }[] = [
    { name: 'held is 100', j: journal({ outcome: 'held', before: [true, true], after: [true, true] }), percent: 100, passed: 4, total: 4 },
    // One hypothesis per probe and phase: probe 0 failed in one of two during checks.
    { name: 'deviated: held hypotheses over all, integer division', j: journal({ outcome: 'deviated', before: [true, true], during: [[true, true], [false, true]], after: [true, true] }), percent: 83, passed: 5, total: 6 },
    { name: 'deviated with 1 of 3: 33 (truncated, not rounded)', j: journal({ outcome: 'deviated', before: [true], during: [[false]], after: [false] }), percent: 33, passed: 1, total: 3 },
    { name: 'aborted: the breached stop condition is one more failed hypothesis', j: journal({ outcome: 'aborted', before: [true, true], during: [[true, true]] }), percent: 80, passed: 4, total: 5 },
    { name: 'deviated with no hypothesis is 0', j: journal({ outcome: 'deviated' }), percent: 0, passed: 0, total: 0 },
    { name: 'inconclusive is not scored', j: journal({ outcome: 'inconclusive', before: [true] }), percent: null, passed: 1, total: 1 },
    { name: 'interrupted is not scored', j: journal({ outcome: 'interrupted', before: [true] }), percent: null, passed: 1, total: 1 },
    { name: 'an unfinished run is not scored', j: journal({ before: [true] }), percent: null, passed: 1, total: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const score = resilienceOfJournal(c.j);
      assert.deepEqual([score.percent, score.passed, score.total, score.scored], [c.percent, c.passed, c.total, c.percent !== null]);
    });
  }
});

describe('resilience score per service', () => {
  it('is the weighted average of each experiment\'s latest scored run, truncated', () => {
    const services = resilienceByService([
      // payments: A scored 100 now (an older deviated run no longer counts), B 50, C only inconclusive.
      { path: 'a1', journal: journal({ title: 'A', tags: ['payments'], outcome: 'deviated', start: '2026-01-01T00:00:00Z', before: [false] }) },
      { path: 'a2', journal: journal({ title: 'A', tags: ['payments'], outcome: 'held', start: '2026-01-02T00:00:00Z', before: [true] }) },
      { path: 'b', journal: journal({ title: 'B', tags: ['payments', 'weight:5'], outcome: 'deviated', before: [true], after: [false] }) },
      { path: 'c', journal: journal({ title: 'C', tags: ['payments'], outcome: 'inconclusive', before: [true] }) },
      { path: 'd', journal: journal({ title: 'D', tags: ['x', 'service:auth'], outcome: 'held', before: [true] }) },
    ]);
    assert.deepEqual(services.map((s) => s.service), ['auth', 'payments']);
    const payments = services[1]!;
    // (10 × 100 + 5 × 50) / 15 = 83.3 → 83
    assert.equal(payments.percent, 83);
    assert.deepEqual(payments.experiments.map((e) => [e.title, e.weight, e.runs, e.counted?.path ?? null]), [['A', 10, 2, 'a2'], ['B', 5, 1, 'b'], ['C', 10, 1, null]]);
    assert.equal(payments.experiments[2]!.latestUnscored?.outcome, 'inconclusive');
    assert.equal(services[0]!.percent, 100);
  });

  it('an explicit weight wins over the tag; all weights 0 or nothing scored gives no score', () => {
    const runs = [
      { path: 'a', journal: journal({ title: 'A', outcome: 'held' as const, before: [true] }) },
      { path: 'b', journal: journal({ title: 'B', tags: ['svc', 'weight:1'], outcome: 'deviated' as const, before: [false] }) },
    ];
    assert.equal(resilienceByService(runs, { weights: { A: 0 } })[0]!.percent, 0);
    assert.equal(resilienceByService(runs, { weights: { A: 0, B: 0 } })[0]!.percent, null);
    assert.equal(resilienceByService([{ path: 'c', journal: journal({ outcome: 'inconclusive' }) }])[0]!.percent, null);
  });
});
