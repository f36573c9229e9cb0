// faultline compile --target aws-fis: an experiment template with EKS pod targets, ISO-8601
// durations, waits, the Chaos Mesh custom-resource action, and alarm stop conditions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { loadCrdValidator } from '../../test/helpers/crd-validator.js';
import { assertGolden, chaosMeshFixtures, compileFixture } from '../../test/helpers/golden.js';
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
      targets: Record<string, { resourceType: string; selectionMode: string; parameters?: Record<string, string> }>;
      actions: Record<string, { actionId: string; parameters: Record<string, string>; startAfter?: string[]; targets?: Record<string, string> }>;
      stopConditions: unknown[];
    };
    assert.deepEqual(t.targets['product-pods'], {
      resourceType: 'aws:eks:pod',
      parameters: { clusterIdentifier: options.clusterArn, namespace: 'shop', selectorType: 'labelSelector', selectorValue: 'app=product-service,environment=staging' },
      selectionMode: 'PERCENT(20)',
    });
    assert.equal(t.actions['slow-network']!.actionId, 'aws:eks:pod-network-latency');
    assert.equal(t.actions['slow-network']!.parameters['duration'], 'PT2M');
    assert.equal(t.actions['slow-network']!.startAfter, undefined);
    assert.equal(t.actions['wait-1']!.actionId, 'aws:fis:wait');
    assert.deepEqual(t.actions['db-loss']!.startAfter, ['wait-1']);
    assert.deepEqual(t.stopConditions, [{ source: 'aws:cloudwatch:alarm', value: options.stopAlarms[0] }]);
  });

  it('carries a Chaos Mesh spec, valid against its CRD, in aws:eks:inject-kubernetes-custom-resource', () => {
    const t = compileFixture('fis.yaml', 'aws-fis', options).files[0]!.document as { actions: Record<string, { actionId: string; parameters: Record<string, string> }> };
    const inject = t.actions['db-loss']!;
    assert.equal(inject.actionId, 'aws:eks:inject-kubernetes-custom-resource');
    assert.equal(inject.parameters['kubernetesKind'], 'NetworkChaos');
    const crds = loadCrdValidator(join(chaosMeshFixtures, 'crds'));
    const object = { apiVersion: inject.parameters['kubernetesApiVersion'], kind: inject.parameters['kubernetesKind'], metadata: { name: 'x', namespace: 'shop' }, spec: JSON.parse(inject.parameters['kubernetesSpec']!) };
    assert.deepEqual(crds.validate(object), []);
  });

  it('refuses stop conditions without alarms, and a template without cluster or role', () => {
    assert.throws(() => compileFixture('fis.yaml', 'aws-fis', {}), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      const text = err.issues.map((i) => `${i.path}: ${i.message} (${i.hint ?? ''})`).join('\n');
      assert.match(text, /safety\.abortWhen: .*CloudWatch alarms.*--stop-alarm/);
      assert.match(text, /--cluster-arn/);
      assert.match(text, /--role-arn/);
      return true;
    });
  });

  it('writes ISO-8601 durations', () => {
    assert.deepEqual([30_000, 120_000, 5_400_000, 3_723_000, 200].map(isoDuration), ['PT30S', 'PT2M', 'PT1H30M', 'PT1H2M3S', 'PT1S']);
  });
});
