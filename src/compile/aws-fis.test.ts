// faultline compile --platform aws-fis: an experiment template with EKS pod targets, ISO-8601
// durations, waits, the Chaos Mesh custom-resource action, and alarm stop conditions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { loadCrdValidator } from '../../test/helpers/crd-validator.js';
import { parseDuration } from '../experiment/duration.js';
import {
  assertGolden,
  chaosMeshFixtures,
  compileFixture,
  compileText,
} from '../../test/helpers/golden.js';
import { isoDuration } from './aws-fis.js';

const options = {
  roleArn: 'arn:aws:iam::123456789012:role/fis-faultline',
  clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/shop-staging',
  stopAlarms: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-5xx-rate'],
};

describe('AWS FIS compiler', () => {
  it('writes the template of golden/fis.json', () => {
    const out = compileFixture('fis.yaml', 'aws-fis', options);
    assertGolden('fis.json', out.files[0]!.text);
  });

  it('selects pods by namespace and labels with a bounded selection mode, and sequences waits', () => {
    const t = compileFixture('fis.yaml', 'aws-fis', options).files[0]!.document as {
      targets: Record<
        string,
        { resourceType: string; selectionMode: string; parameters?: Record<string, string> }
      >;
      actions: Record<
        string,
        {
          actionId: string;
          parameters: Record<string, string>;
          startAfter?: string[];
          targets?: Record<string, string>;
        }
      >;
      stopConditions: unknown[];
    };
    assert.deepEqual(t.targets['product-pods'], {
      resourceType: 'aws:eks:pod',
      parameters: {
        clusterIdentifier: options.clusterArn,
        namespace: 'shop',
        selectorType: 'labelSelector',
        selectorValue: 'app=product-service,environment=staging',
      },
      selectionMode: 'PERCENT(20)',
    });
    assert.equal(t.actions['slow-network']!.actionId, 'aws:eks:pod-network-latency');
    assert.equal(t.actions['slow-network']!.parameters['duration'], 'PT2M');
    assert.equal(t.actions['slow-network']!.startAfter, undefined);
    assert.equal(t.actions['wait-1']!.actionId, 'aws:fis:wait');
    assert.deepEqual(t.actions['db-loss']!.startAfter, ['wait-1']);
    assert.deepEqual(t.stopConditions, [
      { source: 'aws:cloudwatch:alarm', value: options.stopAlarms[0] },
    ]);
  });

  it('carries a Chaos Mesh spec, valid against its CRD, in aws:eks:inject-kubernetes-custom-resource', () => {
    const t = compileFixture('fis.yaml', 'aws-fis', options).files[0]!.document as {
      actions: Record<string, { actionId: string; parameters: Record<string, string> }>;
    };
    const inject = t.actions['db-loss']!;
    assert.equal(inject.actionId, 'aws:eks:inject-kubernetes-custom-resource');
    assert.equal(inject.parameters['kubernetesKind'], 'NetworkChaos');
    const crds = loadCrdValidator(join(chaosMeshFixtures, 'crds'));
    const object = {
      apiVersion: inject.parameters['kubernetesApiVersion'],
      kind: inject.parameters['kubernetesKind'],
      metadata: { name: 'x', namespace: 'shop' },
      spec: JSON.parse(inject.parameters['kubernetesSpec']!) as unknown,
    };
    assert.deepEqual(crds.validate(object), []);
  });

  it('refuses stop conditions without alarms, and a template without cluster or role', () => {
    assert.throws(
      () => compileFixture('fis.yaml', 'aws-fis', {}),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        const text = err.issues.map((i) => `${i.path}: ${i.message} (${i.hint ?? ''})`).join('\n');
        assert.match(text, /safety\.abortWhen: .*CloudWatch alarms.*--stop-alarm/);
        assert.match(text, /--cluster-arn/);
        assert.match(text, /--role-arn/);
        return true;
      },
    );
  });

  // Each action the compiler emits, against the template facts (platforms.md §4): parameters are
  // strings, durations ISO-8601, targets referenced by key, resourceArns or resourceTags (never both).
  type Template = {
    targets: Record<
      string,
      {
        resourceType: string;
        resourceArns?: string[];
        resourceTags?: unknown;
        parameters?: Record<string, string>;
        selectionMode: string;
      }
    >;
    actions: Record<
      string,
      {
        actionId: string;
        description?: string;
        parameters: Record<string, unknown>;
        targets?: Record<string, string>;
        startAfter?: string[];
      }
    >;
    stopConditions: { source: string; value?: string }[];
    experimentOptions: Record<string, string>;
    tags: Record<string, string>;
  };
  const ISO = /^PT(?=\d)(\d+H)?(\d+M)?(\d+S)?$/;
  const FIXTURES = [
    'fis.yaml',
    'network-faults.yaml',
    'network-latency.yaml',
    'pod-faults.yaml',
    'stress.yaml',
    'http.yaml',
    'io-dns-time.yaml',
    'workflow.yaml',
  ];
  const templates = (): [string, Template][] =>
    FIXTURES.map((f) => [f, compileFixture(f, 'aws-fis', options).files[0]!.document as Template]);

  it("every emitted action and target has only the template's fields, string parameters and known action ids", () => {
    const seen = new Set<string>();
    for (const [file, t] of templates()) {
      for (const [name, action] of Object.entries(t.actions)) {
        seen.add(action.actionId);
        assert.ok(
          [
            'aws:eks:pod-network-latency',
            'aws:eks:inject-kubernetes-custom-resource',
            'aws:fis:wait',
          ].includes(action.actionId),
          `${file} ${name}: ${action.actionId}`,
        );
        assert.deepEqual(
          Object.keys(action).filter(
            (k) => !['actionId', 'description', 'parameters', 'targets', 'startAfter'].includes(k),
          ),
          [],
          `${file} ${name}`,
        );
        for (const [key, value] of Object.entries(action.parameters))
          assert.equal(typeof value, 'string', `${file} ${name}.parameters.${key} is a string`);
        for (const key of Object.values(action.targets ?? {}))
          assert.ok(t.targets[key], `${file} ${name} targets a declared target (${key})`);
        for (const after of action.startAfter ?? [])
          assert.ok(t.actions[after], `${file} ${name} starts after a declared action (${after})`);
        assert.ok(/^[A-Za-z0-9_-]{1,64}$/.test(name), `action key ${name}`);
      }
      for (const [name, target] of Object.entries(t.targets)) {
        assert.ok(
          !(target.resourceArns && target.resourceTags),
          `${file} ${name}: resourceArns or resourceTags, not both`,
        );
        assert.match(
          target.selectionMode,
          /^(ALL|COUNT\(\d+\)|PERCENT\(\d+(\.\d+)?\))$/,
          `${file} ${name}`,
        );
      }
      assert.deepEqual(t.experimentOptions, {
        accountTargeting: 'single-account',
        emptyTargetResolutionMode: 'fail',
      });
      assert.equal(t.tags['app.kubernetes.io/managed-by'], 'faultline');
    }
    assert.deepEqual(
      [...seen].sort(),
      ['aws:eks:inject-kubernetes-custom-resource', 'aws:eks:pod-network-latency', 'aws:fis:wait'],
      'the fixtures cover every action the compiler emits',
    );
  });

  it('aws:eks:pod-network-latency: duration, delay, jitter, flows and service account, on an aws:eks:pod target', () => {
    for (const [file, t] of templates()) {
      for (const [name, action] of Object.entries(t.actions).filter(
        ([, a]) => a.actionId === 'aws:eks:pod-network-latency',
      )) {
        assert.deepEqual(
          Object.keys(action.parameters).sort(),
          [
            'delayMilliseconds',
            'duration',
            'flowsPercent',
            'jitterMilliseconds',
            'kubernetesServiceAccount',
          ],
          `${file} ${name}`,
        );
        assert.match(String(action.parameters['duration']), ISO);
        assert.match(String(action.parameters['delayMilliseconds']), /^\d+$/);
        assert.match(String(action.parameters['jitterMilliseconds']), /^\d+$/);
        assert.equal(action.parameters['flowsPercent'], '100');
        assert.equal(action.parameters['kubernetesServiceAccount'], 'fis-experiment');
        const pods = t.targets[action.targets!['Pods']!]!;
        assert.equal(pods.resourceType, 'aws:eks:pod');
        assert.deepEqual(Object.keys(pods.parameters!).sort(), [
          'clusterIdentifier',
          'namespace',
          'selectorType',
          'selectorValue',
        ]);
        assert.equal(pods.parameters!['selectorType'], 'labelSelector');
        assert.equal(pods.parameters!['clusterIdentifier'], options.clusterArn);
      }
    }
    const slow = (
      compileFixture('fis.yaml', 'aws-fis', { ...options, serviceAccount: 'chaos-sa' }).files[0]!
        .document as Template
    ).actions['slow-network']!;
    assert.deepEqual(slow.parameters, {
      duration: 'PT2M',
      delayMilliseconds: '200',
      jitterMilliseconds: '20',
      flowsPercent: '100',
      kubernetesServiceAccount: 'chaos-sa',
    });
  });

  it('aws:fis:wait: an ISO-8601 duration and no target; the next action starts after it', () => {
    const t = compileFixture('workflow.yaml', 'aws-fis', options).files[0]!.document as Template;
    const waits = Object.entries(t.actions).filter(([, a]) => a.actionId === 'aws:fis:wait');
    assert.equal(waits.length, 2);
    for (const [name, wait] of waits) {
      assert.deepEqual(wait.parameters, { duration: 'PT30S' }, name);
      assert.equal(wait.targets, undefined);
    }
    assert.deepEqual(t.actions['wait-2']!.startAfter, ['wait-1'], 'waits chain');
  });

  it('aws:eks:inject-kubernetes-custom-resource: every Chaos Mesh kind, its spec valid against the CRD, on the aws:eks:cluster target', () => {
    const crds = loadCrdValidator(join(chaosMeshFixtures, 'crds'));
    const kinds = new Set<string>();
    for (const [file, t] of templates()) {
      for (const [name, action] of Object.entries(t.actions).filter(
        ([, a]) => a.actionId === 'aws:eks:inject-kubernetes-custom-resource',
      )) {
        const p = action.parameters as Record<string, string>;
        assert.deepEqual(
          Object.keys(p).sort(),
          [
            'kubernetesApiVersion',
            'kubernetesKind',
            'kubernetesNamespace',
            'kubernetesSpec',
            'maxDuration',
          ],
          `${file} ${name}`,
        );
        assert.equal(p['kubernetesApiVersion'], 'chaos-mesh.org/v1alpha1');
        assert.match(p['maxDuration']!, ISO);
        const spec = JSON.parse(p['kubernetesSpec']!) as { duration: string };
        // The custom resource ends by itself after the fault's duration, as maxDuration says.
        assert.equal(
          isoDuration(parseDuration(spec.duration)!),
          p['maxDuration'],
          `${file} ${name}`,
        );
        const object = {
          apiVersion: p['kubernetesApiVersion'],
          kind: p['kubernetesKind'],
          metadata: { name: 'x', namespace: p['kubernetesNamespace'] },
          spec,
        };
        assert.deepEqual(crds.validate(object), [], `${file} ${name}`);
        kinds.add(p['kubernetesKind']!);
        const cluster = t.targets[action.targets!['Cluster']!]!;
        assert.deepEqual(cluster, {
          resourceType: 'aws:eks:cluster',
          resourceArns: [options.clusterArn],
          selectionMode: 'ALL',
        });
      }
    }
    assert.deepEqual([...kinds].sort(), [
      'DNSChaos',
      'HTTPChaos',
      'IOChaos',
      'NetworkChaos',
      'PodChaos',
      'StressChaos',
      'TimeChaos',
    ]);
  });

  it('selection modes: one → COUNT(1), fixed n → COUNT(n), percent → PERCENT(p), all → ALL', () => {
    const modes: [string, string][] = [
      ['mode: one', 'COUNT(1)'],
      ['mode: fixed\n    value: "2"', 'COUNT(2)'],
      ['mode: fixed-percent\n    value: "10"', 'PERCENT(10)'],
      ['mode: all', 'ALL'],
    ];
    for (const [mode, expected] of modes) {
      const text = `title: m\nenvironment: staging\ntargets:\n  api:\n    type: kubernetes\n    namespace: shop-staging\n    selector: { app: api }\n    ${mode}\nmethod: [{ fault: latency, target: api, delay: 10ms, duration: 1m }]\n`;
      const t = compileText(text, 'aws-fis', { ...options, allowWideBlast: true }).files[0]!
        .document as Template;
      assert.equal(t.targets['api-pods']!.selectionMode, expected, mode);
    }
  });

  it('without an alarm and without stop conditions: stopConditions [{source: none}] and a note saying FIS will not stop it', () => {
    const text =
      'title: m\nenvironment: staging\ntargets:\n  api: { type: kubernetes, namespace: shop-staging, selector: { app: api } }\nmethod: [{ fault: latency, target: api, delay: 10ms, duration: 1m }]\n';
    const out = compileText(text, 'aws-fis', {
      roleArn: options.roleArn,
      clusterArn: options.clusterArn,
    });
    assert.deepEqual((out.files[0]!.document as Template).stopConditions, [{ source: 'none' }]);
    assert.ok(
      out.notes.some((n) => /no stop condition: FIS will not stop this experiment/.test(n)),
      out.notes.join('\n'),
    );
  });

  it('writes ISO-8601 durations', () => {
    assert.deepEqual([30_000, 120_000, 5_400_000, 3_723_000, 200].map(isoDuration), [
      'PT30S',
      'PT2M',
      'PT1H30M',
      'PT1H2M3S',
      'PT1S',
    ]);
  });
});
