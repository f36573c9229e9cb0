import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityRun, Journal } from '../journal/journal.js';
import { expectedValue, measuredValue } from './hypotheses.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { buildReportModel, faultShare } from './report-model.js';

const run = (
  activity: unknown,
  output: unknown,
  extra: Partial<ActivityRun> = {},
): ActivityRun => ({
  activity,
  name: 'p',
  output,
  start: '',
  end: '',
  duration: 0,
  status: 'succeeded',
  ...extra,
});

describe('measured and expected values', () => {
  const cases: [string, ActivityRun, string][] = [
    [
      'a threshold shows its value',
      run({ type: 'threshold', threshold: 'p99 < 2s' }, { value: '2.41 s', p99: 2410 }),
      '2.41 s',
    ],
    [
      'an HTTP probe shows status and time',
      run({ http: {} }, { status: 503, headers: {}, body: '', elapsedMs: 12.6 }),
      'HTTP 503 in 13 ms',
    ],
    [
      'a SQL/Redis/Prometheus probe shows the value',
      run({ sql: {} }, { value: 3, rows: [], elapsedMs: 4.2 }),
      '3 in 4 ms',
    ],
    [
      'a Chaos Toolkit process probe shows its exit code',
      run({ type: 'probe' }, { status: 1, stdout: '', stderr: 'x' }),
      'exit code 1',
    ],
    [
      'a probe that could not run shows the error',
      run({}, null, { status: 'failed', exception: ['ECONNREFUSED 127.0.0.1:1'] }),
      'error: ECONNREFUSED 127.0.0.1:1',
    ],
  ];
  for (const [name, r, expected] of cases) it(name, () => assert.equal(measuredValue(r), expected));

  it('expected values come from the threshold, the expect block or the Chaos Toolkit tolerance', () => {
    assert.equal(
      expectedValue(run({ type: 'threshold', threshold: 'error_rate < 1%' }, null)),
      'error_rate < 1%',
    );
    assert.equal(
      expectedValue(run({ expect: { status: 200, latency: '500ms' } }, null)),
      'status: 200, latency: 500ms',
    );
    assert.equal(expectedValue(run({ tolerance: [200, 204] }, null)), 'tolerance [200,204]');
  });

  it('blast radius share from percentage or toxicity', () => {
    assert.equal(faultShare({ percentage: '25%' }), 0.25);
    assert.equal(faultShare({ provider: { arguments: { toxicity: 0.4 } } }), 0.4);
    assert.equal(faultShare({ fault: 'latency' }), 1);
  });
});

describe('a run without load that never concluded', () => {
  const journal: Journal = {
    'faultline-version': '0',
    platform: 'linux x64',
    node: 'v20',
    experiment: { title: 'bare', tags: [] },
    start: '2026-01-01T00:00:00.000Z',
    status: 'running',
    deviated: false,
    steady_states: {
      before: {
        steady_state_met: true,
        probes: [
          {
            ...run({ expect: { status: 200 } }, { status: 200, headers: {}, elapsedMs: 3 }),
            name: 'health',
            tolerance_met: true,
          },
        ],
      },
      after: null,
      during: [],
    },
    run: [],
    rollbacks: [],
    faultline: {
      run_id: 'r',
      pid: 1,
      file: 'bare.yaml',
      format: 'chaostoolkit',
      strategies: {
        rollbacks: 'default',
        hypothesis: 'default',
        frequency_ms: 1000,
        fail_fast: false,
      },
      max_duration_ms: 60_000,
      faults: [
        {
          name: 'cut',
          target: 'db',
          describe: 'reset',
          location: { backend: 'proxy', target: 'db', proxy: 'db', kind: 'toxic' },
          state: 'removed',
          applied_at: '2026-01-01T00:00:01.000Z',
          removed_at: '2026-01-01T00:00:03.000Z',
          touched: { connections: 0, bytes: 0, requests: 0 },
        },
      ],
    },
  };
  const model = buildReportModel(journal);

  it('is "unfinished", says a fault touched nothing, and falls back to the title as service', () => {
    assert.equal(model.verdict.outcome, 'unfinished');
    assert.equal(model.service, 'bare');
    assert.ok(
      model.verdict.why.includes('fault cut on db touched no traffic'),
      model.verdict.why.join('\n'),
    );
    assert.equal(model.load, undefined);
    assert.equal(model.faults[0]!.activeSeconds, 2);
  });

  it('renders everywhere without a time series', () => {
    assert.match(renderHtml(model), /kept no load on the service/);
    const xml = renderJunit(model);
    assert.match(xml, /<failure type="touched-nothing"/);
    assert.match(
      xml,
      /<testcase name="outcome" classname="faultline\.bare\.verdict" time="0.000">\n\s+<failure type="unfinished"/,
    );
    assert.match(renderMarkdown(model), /UNFINISHED/);
  });
});

describe("the chart's time axis starts when the load started", () => {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const at = (ms: number): string => new Date(t0 + ms).toISOString();
  const threshold = (start: number): ActivityRun => ({
    ...run(
      { type: 'threshold', threshold: 'p99 < 1s' },
      { value: '3 ms' },
      { start: at(start), end: at(start + 2000) },
    ),
    name: 'load: p99 < 1s',
    tolerance_met: true,
  });
  const journal = (startedAt: string | undefined): Journal => ({
    'faultline-version': '0',
    platform: 'linux x64',
    node: 'v20',
    experiment: { title: 'axis', tags: [] },
    start: at(-500),
    end: at(6000),
    status: 'completed',
    deviated: false,
    // The first baseline check begins 300 ms after the load did (the old journals' only clue).
    steady_states: {
      before: { steady_state_met: true, probes: [threshold(300)] },
      after: null,
      during: [],
    },
    run: [],
    rollbacks: [],
    faultline: {
      run_id: 'r',
      pid: 1,
      file: 'axis.yaml',
      format: 'faultline',
      strategies: {
        rollbacks: 'default',
        hypothesis: 'default',
        frequency_ms: 1000,
        fail_fast: false,
      },
      max_duration_ms: 60_000,
      faults: [
        {
          name: 'slow',
          target: 'db',
          describe: 'latency',
          location: { backend: 'proxy', target: 'db', proxy: 'db', kind: 'toxic' },
          state: 'removed',
          applied_at: at(2500),
          removed_at: at(4000),
          touched: { connections: 3, bytes: 12, requests: 0 },
        },
      ],
      load: {
        url: 'http://127.0.0.1:1/',
        rate: 10,
        ...(startedAt === undefined ? {} : { started_at: startedAt }),
        total: null,
        health: null,
        phases: {},
        series: [0, 1, 2, 3, 4, 5].map((second) => ({
          second,
          p50: 1,
          p99: 2,
          rps: 10,
          error_rate: 0,
        })),
      },
    },
  });

  it("places instants from the journal's load start", () => {
    const model = buildReportModel(journal(at(0)));
    assert.deepEqual(
      model.load!.windows.map((w) => [w.from, w.to]),
      [[2.5, 4]],
    );
  });

  it('an older journal without it still renders, placed from its first baseline check', () => {
    const model = buildReportModel(journal(undefined));
    assert.deepEqual(
      model.load!.windows.map((w) => [w.from, w.to]),
      [[2.2, 3.7]],
    );
    // The page's chart data carries the same placement.
    assert.match(renderHtml(model), /"windows":\[\{"label":"slow on db","from":2\.2,"to":3\.7\}\]/);
  });
});
