import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExperiment } from '../run-plan/read-experiment.js';
import { lintExperiment } from './lint.js';

const experiment = (probes: unknown[]): ReturnType<typeof parseExperiment> =>
  parseExperiment(
    JSON.stringify({
      title: 'lint',
      targets: { db: { type: 'proxy', upstream: '127.0.0.1:5432' } },
      steadyState: { probes: probes.map((p, i) => ({ name: `probe ${i}`, ...(p as object) })) },
      method: [{ fault: 'latency', target: 'db', delay: '1s', duration: '5s' }],
    }),
  );

describe('the lenient-hypothesis lint', () => {
  it('warns when the hypothesis only checks a status code', () => {
    const warnings = lintExperiment(
      experiment([{ http: { url: 'http://svc/orders' }, expect: { status: 200 } }]),
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /stale cache/);
  });

  it('warns when the only content check is a trivial one on a health endpoint', () => {
    const warnings = lintExperiment(
      experiment([
        {
          http: { url: 'http://svc/healthz?full=1' },
          expect: { status: 200, json: { path: '$.status', equals: 'UP' } },
        },
      ]),
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /health endpoint/);
  });

  it('is quiet for a content check on a real endpoint, freshness, or a reconciliation query', () => {
    for (const probe of [
      { http: { url: 'http://svc/orders/1' }, expect: { json: { path: '$.total', equals: 12 } } },
      {
        http: { url: 'http://svc/health' },
        expect: { fresh: { path: '$.updatedAt', maxAge: '60s' } },
      },
      { sql: { url: 'postgres://127.0.0.1/db', query: 'SELECT 0' }, expect: { equals: 0 } },
    ])
      assert.deepEqual(lintExperiment(experiment([probe])), [], JSON.stringify(probe));
  });
});
