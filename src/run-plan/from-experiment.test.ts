import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExperiment } from './read-experiment.js';
import { planExperiment } from './from-experiment.js';

describe('compiling the load', () => {
  const doc = (load: string): string =>
    `title: t\nsteadyState:\n  load: { url: "http://127.0.0.1:1/", rate: 100/s${load} }\nmethod: []\n`;

  it('passes the send window to the generator, adaptive when absent', () => {
    const exact = planExperiment(parseExperiment(doc(', sendWindow: 0.5ms'), 'a.yaml'), {
      file: 'a.yaml',
      env: {},
    });
    assert.equal(exact.load?.sendWindowMs, 0.5);
    const adaptive = planExperiment(parseExperiment(doc(''), 'b.yaml'), {
      file: 'b.yaml',
      env: {},
    });
    assert.equal(adaptive.load?.sendWindowMs, undefined);
  });

  it('passes the warm-up to the runner, none when absent, and refuses one that is not a duration', () => {
    const plan = (load: string, file: string): ReturnType<typeof planExperiment> =>
      planExperiment(parseExperiment(doc(load), file), { file, env: {} });
    assert.equal(plan(', warmup: 2s', 'w.yaml').load?.warmupMs, 2000);
    assert.equal(plan('', 'n.yaml').load?.warmupMs, 0);
    assert.throws(
      () => parseExperiment(doc(', warmup: later'), 'x.yaml'),
      (err: { issues?: { path: string; line?: number }[] }) =>
        err.issues?.some((i) => i.path === 'steadyState.load.warmup' && i.line === 3) === true,
    );
  });

  it('refuses a send window that is not a duration, located', () => {
    assert.throws(
      () => parseExperiment(doc(', sendWindow: soon'), 'c.yaml'),
      (err: { issues?: { path: string; line?: number }[] }) =>
        err.issues?.some((i) => i.path === 'steadyState.load.sendWindow' && i.line === 3) === true,
    );
  });
});
