import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { isFaultlineError, ValidationError, type ValidationIssue } from '../errors.js';
import { loadDocument } from '../run-plan/read-plan.js';
import { planChaosToolkit } from './to-run-plan.js';
import { parseChaosToolkit } from './read.js';
import { isChaosToolkitDocument } from './detect.js';

function issuesOf(text: string): ValidationIssue[] {
  try {
    parseChaosToolkit(text, 'exp.yaml');
    return [];
  } catch (err) {
    assert.ok(isFaultlineError(err));
    return [...(err as unknown as { issues: ValidationIssue[] }).issues];
  }
}

describe('Chaos Toolkit validation', () => {
  it('reports every problem in one pass, each located', () => {
    const text = [
      'title: t', //                                      1
      'description: d', //                                2
      'steady-state-hypothesis:', //                      3
      '  title: h', //                                    4
      '  probes:', //                                     5
      '    - type: probe', //                             6
      '      name: no-tolerance', //                      7
      '      provider: {type: http, url: "http://x"}', // 8
      'method:', //                                       9
      '  - type: acton', //                               10
      '    name: a', //                                   11
      '    provider: {type: process}', //                 12
      '  - type: probe', //                               13
      '    name: b', //                                   14
      '    tolerence: 1', //                              15
      '    provider: {type: http, url: "http://x", headers: [1]}', // 16
      'rollbacks:', //                                    17
      '  - ref: nowhere', //                              18
    ].join('\n');
    const issues = issuesOf(text);
    const summary = issues.map((i) => `${String(i.line)}: ${i.path}: ${i.message}`);
    assert.deepEqual(summary, [
      '6: steady-state-hypothesis.probes[0]: hypothesis probe must have a tolerance entry',
      "10: method[0].type: 'acton' is not a supported activity type",
      '12: method[0].provider.path: a process activity must have a path',
      '15: method[1].tolerence: unknown key "tolerence"',
      '16: method[1].provider.headers: a HTTP activities expect headers as a mapping',
      "18: rollbacks[0].ref: referenced activity 'nowhere' could not be found in the experiment",
    ]);
    assert.match(issues.find((i) => i.path === 'method[0].type')?.hint ?? '', /action/);
    assert.match(
      issues.find((i) => i.path === 'method[1].tolerence')?.hint ?? '',
      /did you mean "tolerance"/,
    );
  });

  it('keeps extension keys that are not misspellings, as Chaos Toolkit does', () => {
    assert.deepEqual(issuesOf('title: t\ndescription: d\nx-team: payments\nmethod: []\n'), []);
  });

  it('detects the format', () => {
    assert.equal(isChaosToolkitDocument({ title: 't', 'steady-state-hypothesis': {} }), true);
    assert.equal(
      isChaosToolkitDocument({ title: 't', method: [{ type: 'action', name: 'a', provider: {} }] }),
      true,
    );
    assert.equal(isChaosToolkitDocument({ title: 't', method: [{ fault: 'latency' }] }), false);
    assert.equal(isChaosToolkitDocument({ title: 't', targets: {}, method: [] }), false);
    assert.equal(
      isChaosToolkitDocument({
        title: 't',
        configuration: { a: { type: 'env', key: 'A' } },
        method: [],
      }),
      true,
    );
  });
});

describe('Chaos Toolkit documents under fuzzing', () => {
  // Mutated real fixtures (JSON and YAML renderings): each must give a valid document that
  // compiles to a plan or a ValidationError, or a located ValidationError — never a crash.
  const fixtures = new URL(
    '../../test/fixtures/chaostoolkit/lib-python-dicts-as-json/',
    import.meta.url,
  );
  const seeds = [
    'experiments.SimpleExperiment.json',
    'experiments.ExperimentWithVariousTolerances.json',
    'experiments.HTTPToleranceExperiment.json',
    'experiments.ExperimentWithInterpolatedTitle.json',
  ]
    .map((f) => readFileSync(new URL(f, fixtures), 'utf8'))
    .flatMap((text) => [text, stringify(JSON.parse(text))]);
  let state = 20261123;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const fragments = [
    '{',
    '}',
    '[',
    ']',
    ':',
    '- ',
    '"',
    ',',
    '\n',
    '  ',
    '${x}',
    'null',
    '-1',
    '0.5',
    'ref',
    'type',
    'provider',
    'tolerance',
    'http',
    'process',
    'python',
    '!!python/object ',
  ];

  function mutate(text: string): string {
    const chars = Array.from(text);
    for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) {
      const at = Math.floor(random() * (chars.length + 1));
      if (random() < 0.5) chars.splice(at, 1 + Math.floor(random() * 6));
      else chars.splice(at, 0, ...Array.from(fragments[Math.floor(random() * fragments.length)]!));
    }
    return chars.join('');
  }

  it('2,000 mutated documents: located errors or plans, never a crash', () => {
    let valid = 0;
    for (let i = 0; i < 2000; i++) {
      const text = mutate(seeds[Math.floor(random() * seeds.length)]!);
      try {
        const loaded = loadDocument(text, 'fuzz.json');
        valid++;
        if (loaded.format === 'chaostoolkit') {
          try {
            planChaosToolkit(loaded.data, { file: 'fuzz.json', env: {} });
          } catch (err) {
            assert.ok(err instanceof ValidationError, `compile crashed:\n${text}\n${String(err)}`);
          }
        }
      } catch (err) {
        assert.ok(err instanceof ValidationError, `load crashed:\n${text}\n${String(err)}`);
        assert.ok(err.issues.length > 0 && err.issues.every((issue) => issue.file === 'fuzz.json'));
      }
    }
    assert.ok(valid > 0);
  });
});

describe('Chaos Toolkit validation: values run would trip on', () => {
  const experiment = (provider: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify(
      {
        title: 't',
        description: 'd',
        method: [{ type: 'probe', name: 'p', provider: { type: 'http', ...provider }, ...extra }],
      },
      null,
      2,
    );

  it('an HTTP provider: URL, method, header, expected status, each located', () => {
    const issues = issuesOf(
      experiment({
        url: 'localhost:3000 /health',
        method: 'GE T',
        headers: { 'X Id': '1' },
        expected_status: [200, 1000],
      }),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        'method[0].provider.url',
        'method[0].provider.method',
        'method[0].provider.headers.X Id',
        'method[0].provider.expected_status[1]',
      ],
    );
    assert.ok(issues.every((i) => i.line !== undefined && i.column !== undefined));
  });

  it('seconds no timer can hold: a timeout, a pause', () => {
    const issues = issuesOf(
      experiment({ url: 'http://127.0.0.1:3000', timeout: 3e6 }, { pauses: { after: 1e7 } }),
    );
    assert.deepEqual(
      issues.map((i) => [i.path, /longer than a timer can hold/.test(i.message)]),
      [
        ['method[0].provider.timeout', true],
        ['method[0].pauses.after', true],
      ],
    );
    assert.match(issues[0]!.hint ?? '', /at most 2147483 seconds/);
  });

  it('a jsonpath tolerance that does not parse', () => {
    const issues = issuesOf(
      JSON.stringify({
        title: 't',
        description: 'd',
        'steady-state-hypothesis': {
          title: 'h',
          probes: [
            {
              type: 'probe',
              name: 'p',
              provider: { type: 'http', url: 'http://127.0.0.1:3000' },
              tolerance: { type: 'jsonpath', path: '$.a[', expect: 1 },
            },
          ],
        },
        method: [],
      }),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ['steady-state-hypothesis.probes[0].tolerance.path'],
    );
    assert.match(issues[0]!.message, /not a JSONPath/);
  });

  it('${variables} are left to run time', () => {
    assert.deepEqual(
      issuesOf(experiment({ url: '${base}/health', timeout: '${t}', method: '${m}' })),
      [],
    );
  });
});
