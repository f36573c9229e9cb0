import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../errors.js';
import { parseExperiment } from '../../run-plan/read-experiment.js';

describe('process and service targets in the loader', () => {
  it('refuses a process target with no selector, or two, located and with a hint', () => {
    const text = [
      'title: t',
      'targets:',
      '  a: { type: process }',
      '  b: { type: process, pid: 12, match: "x" }',
      'method:',
      '  - { fault: pause-process, target: a, duration: 1s }',
      '',
    ].join('\n');
    assert.throws(
      () => parseExperiment(text, 'p.yaml'),
      (err: ValidationError) => {
        const messages = err.issues.map((i) => `${i.path}: ${i.message}`);
        assert.deepEqual(messages, [
          'targets.a: a process target needs pid, pidfile or match',
          'targets.b: a process target selects by one of pid, pidfile and match, not pid and match',
        ]);
        assert.ok(err.issues.every((i) => i.hint && i.line !== undefined));
        return true;
      },
    );
  });

  it('refuses clock-skew on a plain process (only a service the run starts can be put under libfaketime)', () => {
    const text = [
      'title: t',
      'targets:',
      '  a: { type: process, pid: 12 }',
      'method:',
      '  - { fault: clock-skew, target: a, offset: -1h, duration: 1s }',
      '',
    ].join('\n');
    assert.throws(
      () => parseExperiment(text, 'p.yaml'),
      /clock-skew cannot act on process target "a"/,
    );
  });

  it('accepts kill, pause, restart and clock-skew on a service', () => {
    const text = [
      'title: t',
      'targets:',
      '  s: { type: service, command: [node, server.js], env: { PORT: "3000" }, ready: { port: 3000 } }',
      'method:',
      '  - { fault: kill-process, target: s, signal: SIGTERM, gracePeriod: 2s, duration: 3s }',
      '  - { fault: pause-process, target: s, duration: 1s }',
      '  - { fault: restart-process, target: s, duration: 1s }',
      '  - { fault: clock-skew, target: s, offset: -1.5h, duration: 1s }',
      '',
    ].join('\n');
    assert.equal(parseExperiment(text, 's.yaml').method.length, 4);
  });
});
