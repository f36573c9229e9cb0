// examples/kubernetes/: the brief's own experiment (30 s of delay between payment-service and
// PostgreSQL, one pod, reverted after 120 s, a steady state and a stop condition) validates,
// passes the guardrails and compiles to a NetworkChaos the real Chaos Mesh CRD accepts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkGuardrails } from '../../src/backends/kubernetes/guardrails.js';
import { compileForPlatform } from '../../src/compile/platform-compile.js';
import { readDocument, validateExperiment } from '../../src/run-plan/read-experiment.js';
import { loadDocument } from '../../src/run-plan/read-plan.js';
import { loadCrdValidator } from '../helpers/crd-validator.js';

const root = new URL('../../', import.meta.url).pathname;
const FILE = 'examples/kubernetes/payment-db-latency.yaml';

describe('examples/kubernetes', () => {
  const text = readFileSync(join(root, FILE), 'utf8');

  it('validates with no warning and passes the guardrails', () => {
    const loaded = loadDocument(text, FILE);
    assert.equal(loaded.format, 'faultline');
    assert.deepEqual(loaded.warnings, []);
    if (loaded.format !== 'faultline') return;
    assert.deepEqual(checkGuardrails(loaded.experiment), []);
    assert.deepEqual(loaded.experiment.steadyState?.thresholds, ['p99 < 2s', 'error_rate < 1%']);
    assert.deepEqual(loaded.experiment.safety?.abortWhen, ['error_rate > 5% for 5s']);
  });

  it('compiles to one NetworkChaos: 30 s delay, one pod, 120 s, towards the primary only', () => {
    const read = readDocument(text, FILE);
    const out = compileForPlatform(validateExperiment(read, FILE), read, 'chaos-mesh', {
      file: FILE,
      env: { TOKEN: 'test-token' },
    });
    assert.equal(out.files.length, 1);
    const chaos = out.files[0]!.document as {
      kind: string;
      spec: {
        mode: string;
        action: string;
        delay: { latency: string };
        duration: string;
        target: { selector: { labelSelectors: Record<string, string> }; mode: string };
      };
    };
    const crds = loadCrdValidator(join(root, 'test/fixtures/chaos-mesh/crds'));
    assert.deepEqual(crds.validate(chaos), []);
    assert.equal(chaos.kind, 'NetworkChaos');
    assert.equal(chaos.spec.mode, 'one');
    assert.equal(chaos.spec.action, 'delay');
    assert.equal(chaos.spec.delay.latency, '30s');
    assert.equal(chaos.spec.duration, '2m');
    assert.deepEqual(chaos.spec.target.selector.labelSelectors, {
      app: 'postgresql',
      role: 'primary',
    });
  });
});
