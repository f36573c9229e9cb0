// Loading experiments with Kubernetes faults: the capability table refuses a fault its target
// type cannot realise, with the location and what would work instead; network scope keys are
// checked against the target type.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { faultTypes } from './schema.js';
import { parseExperiment } from '../run-plan/read-experiment.js';

const doc = (method: string): string => `title: t
environment: staging
targets:
  db: { type: proxy, upstream: "127.0.0.1:5432" }
  pods: { type: kubernetes, namespace: shop-staging, selector: { app: api } }
  proc: { type: process, pid: 1 }
method:
${method}
`;

function issues(
  text: string,
): { path: string; message: string; hint?: string | undefined; line?: number | undefined }[] {
  try {
    parseExperiment(text, 'k.yaml');
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.exitCode, 2);
    return [...err.issues];
  }
  return [];
}

describe('kubernetes faults in the loader', () => {
  it('knows the new fault types', () => {
    for (const t of [
      'packet-loss',
      'duplicate',
      'corrupt',
      'partition',
      'pod-kill',
      'pod-failure',
      'container-kill',
      'cpu-stress',
      'memory-stress',
      'io-latency',
      'io-error',
      'dns-error',
      'clock-skew',
      'http-replace',
    ]) {
      assert.ok(faultTypes.includes(t as never), t);
    }
  });

  it('accepts each kubernetes fault on a kubernetes target', () => {
    const method = [
      '  - { fault: packet-loss, target: pods, loss: 5%, duration: 10s }',
      '  - { fault: pod-kill, target: pods, duration: 10s }',
      '  - { fault: cpu-stress, target: pods, workers: 1, duration: 10s }',
      '  - { fault: clock-skew, target: pods, offset: -1h, duration: 10s }',
      '  - { fault: latency, target: pods, delay: 1s, peer: pods, direction: both, duration: 10s }',
    ].join('\n');
    assert.deepEqual(issues(doc(method)), []);
  });

  const refused: { name: string; step: string; path: string; hint: RegExp }[] = [
    {
      name: 'pod-kill on a proxy',
      step: '{ fault: pod-kill, target: db, duration: 10s }',
      path: 'method[0].fault',
      hint: /kubernetes target/,
    },
    {
      name: 'cpu-stress on a proxy',
      step: '{ fault: cpu-stress, target: db, workers: 1, duration: 10s }',
      path: 'method[0].fault',
      hint: /kubernetes target/,
    },
    {
      name: 'slicer on pods',
      step: '{ fault: slicer, target: pods, averageSize: 10, duration: 10s }',
      path: 'method[0].fault',
      hint: /proxy target/,
    },
    {
      name: 'pod-failure on a process',
      step: '{ fault: pod-failure, target: proc, duration: 10s }',
      path: 'method[0].fault',
      hint: /pause-process/,
    },
    {
      name: 'stream on pods',
      step: '{ fault: latency, target: pods, delay: 1s, stream: upstream, duration: 10s }',
      path: 'method[0].stream',
      hint: /direction/,
    },
    {
      name: 'direction on a proxy',
      step: '{ fault: latency, target: db, delay: 1s, direction: to, duration: 10s }',
      path: 'method[0].direction',
      hint: /stream/,
    },
    {
      name: 'a peer that is not a kubernetes target',
      step: '{ fault: partition, target: pods, peer: db, duration: 10s }',
      path: 'method[0].peer',
      hint: /peerHosts/,
    },
    {
      name: 'an unknown peer',
      step: '{ fault: partition, target: pods, peer: pod, duration: 10s }',
      path: 'method[0].peer',
      hint: /did you mean/,
    },
    {
      name: 'a bad memory size',
      step: '{ fault: memory-stress, target: pods, size: lots, duration: 10s }',
      path: 'method[0].size',
      hint: /./,
    },
  ];
  for (const row of refused) {
    it(`refuses ${row.name}, located, with a hint`, () => {
      const found = issues(doc(`  - ${row.step}`));
      const issue = found.find((i) => i.path === row.path);
      assert.ok(issue, JSON.stringify(found));
      assert.ok(issue.line === 8, `line ${String(issue.line)}`);
      if (row.path !== 'method[0].size') assert.match(issue.hint ?? '', row.hint);
    });
  }
});
