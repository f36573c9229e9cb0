// faultline compile --platform chaos-mesh: every fault kind against golden files, and every
// manifest against the real Chaos Mesh CRD schemas (test/fixtures/chaos-mesh/crds).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFaultlineError, ValidationError } from '../../errors.js';
import {
  assertGolden,
  chaosMeshFixtures,
  compileFixture,
  compileText,
} from '../../../test/helpers/golden.js';
import { loadCrdValidator } from '../../../test/helpers/crd-validator.js';
import { toYaml } from '../../compile/platform-compile.js';

const crds = loadCrdValidator(join(chaosMeshFixtures, 'crds'));

const cases: {
  experiment: string;
  golden: string;
  kinds: string[];
  options?: Record<string, unknown>;
}[] = [
  { experiment: 'network-latency.yaml', golden: 'network-latency.yaml', kinds: ['NetworkChaos'] },
  {
    experiment: 'network-faults.yaml',
    golden: 'network-faults.yaml',
    kinds: ['NetworkChaos', 'NetworkChaos', 'NetworkChaos', 'NetworkChaos', 'NetworkChaos'],
  },
  {
    experiment: 'pod-faults.yaml',
    golden: 'pod-faults.yaml',
    kinds: ['PodChaos', 'PodChaos', 'PodChaos'],
  },
  { experiment: 'stress.yaml', golden: 'stress.yaml', kinds: ['StressChaos', 'StressChaos'] },
  { experiment: 'http.yaml', golden: 'http.yaml', kinds: ['HTTPChaos', 'HTTPChaos', 'HTTPChaos'] },
  {
    experiment: 'io-dns-time.yaml',
    golden: 'io-dns-time.yaml',
    kinds: ['IOChaos', 'IOChaos', 'DNSChaos', 'TimeChaos'],
  },
  { experiment: 'workflow.yaml', golden: 'workflow.yaml', kinds: ['Workflow'] },
  {
    experiment: 'network-latency.yaml',
    golden: 'schedule-single.yaml',
    kinds: ['Schedule'],
    options: { schedule: '0 10 * * 1-5' },
  },
  {
    experiment: 'workflow.yaml',
    golden: 'schedule-workflow.yaml',
    kinds: ['Schedule'],
    options: { schedule: '@every 6h' },
  },
];

describe('Chaos Mesh compiler', () => {
  for (const c of cases) {
    it(`compiles ${c.experiment}${c.options ? ' (scheduled)' : ''} to ${[...new Set(c.kinds)].join(', ')}, valid against the CRDs and equal to golden/${c.golden}`, () => {
      const out = compileFixture(c.experiment, 'chaos-mesh', c.options);
      assert.deepEqual(
        out.files.map((f) => (f.document as { kind: string }).kind),
        c.kinds,
      );
      for (const f of out.files)
        assert.deepEqual(
          crds.validate(f.document as { kind: string }),
          [],
          `${f.name} must validate against its CRD`,
        );
      assertGolden(c.golden, toYaml(out.files.map((f) => f.document)));
    });
  }

  it('covers every fault kind faultline emits, plus Workflow and Schedule', () => {
    const kinds = new Set(cases.flatMap((c) => c.kinds));
    for (const kind of [
      'NetworkChaos',
      'PodChaos',
      'StressChaos',
      'HTTPChaos',
      'IOChaos',
      'DNSChaos',
      'TimeChaos',
      'Workflow',
      'Schedule',
    ])
      assert.ok(kinds.has(kind), kind);
  });

  it('always writes a duration and faultline labels on standalone objects', () => {
    const out = compileFixture('network-faults.yaml', 'chaos-mesh');
    for (const f of out.files) {
      const doc = f.document as {
        metadata: { labels: Record<string, string> };
        spec: { duration?: string };
      };
      assert.match(doc.spec.duration ?? '', /^\d+(ms|s|m|h)$/);
      assert.equal(doc.metadata.labels['app.kubernetes.io/managed-by'], 'faultline');
      assert.equal(
        doc.metadata.labels['faultline.dev/experiment'],
        'network-faults-on-the-auth-service',
      );
    }
  });

  it("maps the brief's step 3 exactly: one pod, 30 s of delay towards PostgreSQL, reverted after 120 s", () => {
    const doc = compileFixture('network-latency.yaml', 'chaos-mesh').files[0]!.document as {
      spec: Record<string, unknown>;
    };
    assert.equal(doc.spec['mode'], 'one');
    assert.equal(doc.spec['duration'], '2m');
    assert.deepEqual(doc.spec['delay'], { latency: '30s', jitter: '100ms' });
    assert.deepEqual((doc.spec['target'] as { selector: unknown }).selector, {
      namespaces: ['payments'],
      labelSelectors: { app: 'postgresql', environment: 'staging' },
    });
  });

  it('the CRD validator is not vacuous: a wrong mode, a misspelled field and a missing action are caught', () => {
    const doc = compileFixture('network-latency.yaml', 'chaos-mesh').files[0]!.document as {
      spec: Record<string, unknown>;
    };
    const broken = structuredClone(doc) as {
      apiVersion: string;
      kind: string;
      spec: Record<string, unknown>;
    };
    broken.spec['mode'] = 'everything';
    broken.spec['latncy'] = '1s';
    delete broken.spec['action'];
    const problems = crds.validate(broken);
    assert.ok(
      problems.some((p) => p.includes('/spec/mode')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('latncy')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('action')),
      problems.join('\n'),
    );
  });
});

const base = (
  method: string,
  target = '{ type: kubernetes, namespace: shop-staging, selector: { app: api }, port: 8080 }',
): string => `
title: t
environment: staging
targets:
  api: ${target}
  db: { type: kubernetes, namespace: shop-staging, selector: { app: db } }
  local: { type: proxy, upstream: "127.0.0.1:5432" }
method:
${method}
`;

function problemsOf(
  text: string,
): { path: string; message: string; hint?: string | undefined; line?: number | undefined }[] {
  try {
    compileText(text, 'chaos-mesh');
  } catch (err) {
    assert.ok(isFaultlineError(err) && err instanceof ValidationError, String(err));
    assert.equal(err.exitCode, 2);
    return [...err.issues];
  }
  assert.fail('expected a ValidationError');
}

describe('Chaos Mesh compiler: faults it cannot express are located errors with what would work', () => {
  const table: { name: string; method: string; path: string; hint: RegExp }[] = [
    {
      name: 'a share of HTTP requests',
      method: '  - { fault: http-delay, target: api, delay: 1s, percentage: 10%, duration: 30s }',
      path: 'method[0].percentage',
      hint: /--platform istio/,
    },
    {
      name: 'a path regex',
      method:
        '  - { fault: http-abort, target: api, status: 503, match: { pathRegex: "^/a" }, duration: 30s }',
      path: 'method[0].match.pathRegex',
      hint: /pathPrefix/,
    },
    {
      name: 'a partition without a peer',
      method: '  - { fault: partition, target: api, duration: 30s }',
      path: 'method[0].peer',
      hint: /peer/,
    },
    {
      name: 'peerHosts in both directions',
      method:
        '  - { fault: packet-loss, target: api, loss: 5%, peerHosts: [10.0.0.1], direction: both, duration: 30s }',
      path: 'method[0].direction',
      hint: /direction: to/,
    },
    {
      name: 'a DNS wildcard in the middle',
      method: '  - { fault: dns-error, target: api, patterns: ["*.svc"], duration: 30s }',
      path: 'method[0].patterns[0]',
      hint: /./,
    },
    {
      name: 'a DNS rcode DNSChaos cannot answer',
      method: '  - { fault: dns-error, target: api, rcode: nxdomain, duration: 30s }',
      path: 'method[0].rcode',
      hint: /dns target/,
    },
    {
      name: 'a share of connections for latency',
      method: '  - { fault: latency, target: api, delay: 1s, percentage: 50%, duration: 30s }',
      path: 'method[0].percentage',
      hint: /mode and value/,
    },
    {
      name: 'a proxy fault on a pod',
      method: '  - { fault: latency, target: local, delay: 1s, duration: 30s }',
      path: 'method[0].target',
      hint: /kubernetes target/,
    },
  ];
  for (const row of table) {
    it(`refuses ${row.name}`, () => {
      const issues = problemsOf(base(row.method));
      const issue = issues.find((i) => i.path === row.path);
      assert.ok(issue, `expected an issue at ${row.path}, got ${JSON.stringify(issues)}`);
      assert.match(issue.hint ?? '', row.hint);
      assert.ok(issue.line !== undefined && issue.line > 0, 'located in the file');
    });
  }

  it('reports every problem in one pass', () => {
    const issues = problemsOf(
      base(
        [
          '  - { fault: partition, target: api, duration: 30s }',
          '  - { fault: http-delay, target: api, delay: 1s, percentage: 10%, duration: 30s }',
        ].join('\n'),
      ),
    );
    assert.deepEqual(issues.map((i) => i.path).sort(), ['method[0].peer', 'method[1].percentage']);
  });
});
