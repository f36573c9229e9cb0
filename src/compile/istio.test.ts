// faultline compile --platform istio: VirtualService fault injection with per-request percentages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { assertGolden, compileFixture, compileText } from '../../test/helpers/golden.js';
import { toYaml } from './platform-compile.js';

describe('Istio compiler', () => {
  it('writes one VirtualService per Service, delay and abort with the same match in one rule, golden/istio.yaml', () => {
    const out = compileFixture('istio.yaml', 'istio');
    assert.equal(out.files.length, 1);
    const vs = out.files[0]!.document as {
      apiVersion: string;
      kind: string;
      spec: { hosts: string[]; http: { match?: unknown; fault?: Record<string, unknown> }[] };
    };
    assert.equal(vs.apiVersion, 'networking.istio.io/v1');
    assert.deepEqual(vs.spec.hosts, ['auth-service']);
    assert.deepEqual(vs.spec.http[0]!.fault, {
      delay: { fixedDelay: '5s', percentage: { value: 10 } },
      abort: { httpStatus: 503, percentage: { value: 5 } },
    });
    assert.deepEqual(vs.spec.http[1]!.match, [
      { method: { exact: 'POST' }, headers: { 'x-chaos': { exact: 'on' } } },
    ]);
    assert.equal(
      vs.spec.http[2]!.fault,
      undefined,
      'a catch-all route leaves other requests alone',
    );
    assert.ok(
      out.notes.some((n) => n.includes('no duration')),
      'says that Istio faults have no duration',
    );
    assertGolden('istio.yaml', toYaml(out.files.map((f) => f.document)));
  });

  it('refuses network faults and http-replace, naming chaos-mesh instead, and a target without a Service', () => {
    const text = `
title: t
environment: staging
targets:
  api: { type: kubernetes, namespace: shop-staging, selector: { app: api }, port: 8080 }
method:
  - { fault: latency, target: api, delay: 1s, duration: 30s }
  - { fault: http-replace, target: api, status: 200, duration: 30s }
  - { fault: http-delay, target: api, delay: 1s, duration: 30s }
`;
    assert.throws(
      () => compileText(text, 'istio'),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i]));
        assert.match(byPath['method[0].fault']?.hint ?? '', /--platform chaos-mesh/);
        assert.match(byPath['method[1].fault']?.hint ?? '', /HTTPChaos replace/);
        assert.match(byPath['method[2].target']?.hint ?? '', /service/);
        return true;
      },
    );
  });
});
