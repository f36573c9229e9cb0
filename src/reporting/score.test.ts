import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityRun, Journal, Outcome } from '../journal/journal.js';
import { BREACHED_CAP, PASS_MARK, resilienceByService, resilienceOfJournal } from './score.js';

const check = (name: string, met: boolean): ActivityRun => ({
  activity: {},
  name,
  output: null,
  start: '',
  end: '',
  duration: 0,
  status: 'succeeded',
  tolerance_met: met,
});

/** A journal with the given verdict and checks (`during` holds one check per entry). */
function journal(opts: {
  title?: string;
  tags?: string[];
  outcome?: Outcome;
  start?: string;
  before?: boolean[];
  during?: boolean[][];
  after?: boolean[];
}): Journal {
  const probes = (results: boolean[]): ActivityRun[] =>
    results.map((met, i) => check(`probe ${i}`, met));
  return {
    'faultline-version': '0',
    platform: 'test',
    node: 'v20',
    experiment: { title: opts.title ?? 'exp', tags: opts.tags ?? ['svc'] },
    start: opts.start ?? '2026-01-01T00:00:00.000Z',
    status: 'completed',
    deviated: opts.outcome === 'deviated',
    steady_states: {
      before: opts.before
        ? { steady_state_met: opts.before.every(Boolean), probes: probes(opts.before) }
        : null,
      after: opts.after
        ? { steady_state_met: opts.after.every(Boolean), probes: probes(opts.after) }
        : null,
      during: (opts.during ?? []).map((d) => ({
        steady_state_met: d.every(Boolean),
        probes: probes(d),
      })),
    },
    run: [],
    rollbacks: [],
    faultline: {
      run_id: 'r',
      pid: 1,
      file: 'f.yaml',
      format: 'faultline',
      outcome: opts.outcome,
      strategies: {
        rollbacks: 'default',
        hypothesis: 'default',
        frequency_ms: 1000,
        fail_fast: false,
      },
      max_duration_ms: 1000,
      faults: [],
    },
  };
}

describe('resilience score of a run', () => {
  const cases: {
    name: string;
    j: Journal;
    percent: number | null;
    passed: number;
    total: number;
  }[] = [
    {
      name: 'held is 100',
      j: journal({ outcome: 'held', before: [true, true], after: [true, true] }),
      percent: 100,
      passed: 4,
      total: 4,
    },
    // One hypothesis per probe and phase: probe 0 failed in one of two during checks.
    {
      name: 'deviated: 50 × held hypotheses over all, integer division',
      j: journal({
        outcome: 'deviated',
        before: [true, true],
        during: [
          [true, true],
          [false, true],
        ],
        after: [true, true],
      }),
      percent: 41,
      passed: 5,
      total: 6,
    },
    {
      name: 'deviated with 1 of 3: 16 (truncated, not rounded)',
      j: journal({ outcome: 'deviated', before: [true], during: [[false]], after: [false] }),
      percent: 16,
      passed: 1,
      total: 3,
    },
    {
      name: 'aborted: the breached stop condition is one more failed hypothesis',
      j: journal({ outcome: 'aborted', before: [true, true], during: [[true, true]] }),
      percent: 40,
      passed: 4,
      total: 5,
    },
    {
      name: 'deviated with no hypothesis is 0',
      j: journal({ outcome: 'deviated' }),
      percent: 0,
      passed: 0,
      total: 0,
    },
    {
      name: 'inconclusive is not scored',
      j: journal({ outcome: 'inconclusive', before: [true] }),
      percent: null,
      passed: 1,
      total: 1,
    },
    {
      name: 'interrupted is not scored',
      j: journal({ outcome: 'interrupted', before: [true] }),
      percent: null,
      passed: 1,
      total: 1,
    },
    {
      name: 'an unfinished run is not scored',
      j: journal({ before: [true] }),
      percent: null,
      passed: 1,
      total: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const score = resilienceOfJournal(c.j);
      assert.deepEqual(
        [score.percent, score.passed, score.total, score.scored],
        [c.percent, c.passed, c.total, c.percent !== null],
      );
    });
  }
});

describe('a blown SLO cannot pass', () => {
  // The two runs that made the old formula (Litmus's share of hypotheses held) a lie, rebuilt
  // with their hypotheses: the checks unrelated to the fault held, those that measured it failed.
  it('a run at 5× its p99 target with 16 % errors (72 % before) scores below the pass mark', () => {
    // 18 hypotheses (6 probes before, during and after), 13 held: p99 and error_rate failed
    // during the fault, three probes that depend on them too, and the after p99.
    const j = journal({
      outcome: 'deviated',
      before: [true, true, true, true, true, true],
      during: [[false, false, false, true, true, true]],
      after: [false, false, true, true, true, true],
    });
    const score = resilienceOfJournal(j);
    assert.deepEqual([score.passed, score.total], [13, 18]);
    assert.equal(Math.floor((13 * 100) / 18), 72, 'what the old formula gave');
    assert.equal(score.percent, 36);
    assert.ok(score.percent < PASS_MARK);
    assert.match(score.note, /at most 50 \(pass mark 80\)/);
  });

  it("the demo's fragile build aborted at 83 % errors (62 % before) scores below the pass mark", () => {
    // 7 hypotheses, 5 held (the before checks and two probes), and the breached stop condition.
    const j = journal({
      outcome: 'aborted',
      before: [true, true, true],
      during: [[false, false, true, true]],
    });
    const score = resilienceOfJournal(j);
    assert.deepEqual([score.passed, score.total], [5, 8]);
    assert.equal(Math.floor((5 * 100) / 8), 62, 'what the old formula gave');
    assert.equal(score.percent, 31);
    assert.ok(score.percent < PASS_MARK);
  });

  it('no refuted run reaches the cap, whatever share of its hypotheses held', () => {
    for (const outcome of ['deviated', 'aborted'] as const) {
      const score = resilienceOfJournal(
        journal({ outcome, before: Array<boolean>(99).fill(true), during: [[false]] }),
      );
      assert.ok(
        score.percent !== null && score.percent <= BREACHED_CAP,
        `${outcome}: ${score.percent}`,
      );
    }
    assert.ok(BREACHED_CAP < PASS_MARK - 20, 'clearly below the pass mark');
  });

  it('one refuted experiment caps its service, however many others held', () => {
    const runs = Array.from({ length: 9 }, (_, i) => ({
      path: `h${i}`,
      journal: journal({ title: `held ${i}`, outcome: 'held', before: [true] }),
    }));
    runs.push({
      path: 'd',
      journal: journal({
        title: 'refuted',
        outcome: 'deviated',
        before: [true],
        during: [[false]],
      }),
    });
    // (9 × 100 + 25) / 10 = 92 as an average; capped because one SLO was blown.
    assert.equal(resilienceByService(runs)[0]!.percent, BREACHED_CAP);
  });
});

describe('resilience score per service', () => {
  it("is the weighted average of each experiment's latest scored run, truncated", () => {
    const services = resilienceByService([
      // payments: A scored 100 now (an older deviated run no longer counts), B 50, C only inconclusive.
      {
        path: 'a1',
        journal: journal({
          title: 'A',
          tags: ['payments'],
          outcome: 'deviated',
          start: '2026-01-01T00:00:00Z',
          before: [false],
        }),
      },
      {
        path: 'a2',
        journal: journal({
          title: 'A',
          tags: ['payments'],
          outcome: 'held',
          start: '2026-01-02T00:00:00Z',
          before: [true],
        }),
      },
      {
        path: 'b',
        journal: journal({
          title: 'B',
          tags: ['payments', 'weight:5'],
          outcome: 'deviated',
          before: [true],
          after: [false],
        }),
      },
      {
        path: 'c',
        journal: journal({
          title: 'C',
          tags: ['payments'],
          outcome: 'inconclusive',
          before: [true],
        }),
      },
      {
        path: 'd',
        journal: journal({
          title: 'D',
          tags: ['x', 'service:auth'],
          outcome: 'held',
          before: [true],
        }),
      },
    ]);
    assert.deepEqual(
      services.map((s) => s.service),
      ['auth', 'payments'],
    );
    const payments = services[1]!;
    // (10 × 100 + 5 × 25) / 15 = 75, capped at 50: B was refuted.
    assert.equal(payments.percent, 50);
    assert.deepEqual(
      payments.experiments.map((e) => [e.title, e.weight, e.runs, e.counted?.path ?? null]),
      [
        ['A', 10, 2, 'a2'],
        ['B', 5, 1, 'b'],
        ['C', 10, 1, null],
      ],
    );
    assert.equal(payments.experiments[2]!.latestUnscored?.outcome, 'inconclusive');
    assert.equal(services[0]!.percent, 100);
  });

  it('an explicit weight wins over the tag; all weights 0 or nothing scored gives no score', () => {
    const runs = [
      { path: 'a', journal: journal({ title: 'A', outcome: 'held' as const, before: [true] }) },
      {
        path: 'b',
        journal: journal({
          title: 'B',
          tags: ['svc', 'weight:1'],
          outcome: 'deviated' as const,
          before: [false],
        }),
      },
    ];
    assert.equal(resilienceByService(runs, { weights: { A: 0 } })[0]!.percent, 0);
    assert.equal(resilienceByService(runs, { weights: { A: 0, B: 0 } })[0]!.percent, null);
    assert.equal(
      resilienceByService([{ path: 'c', journal: journal({ outcome: 'inconclusive' }) }])[0]!
        .percent,
      null,
    );
  });
});
