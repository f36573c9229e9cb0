// The end-to-end proof behind `faultline demo`: the brief's three first scenarios, each run by
// the real runner against real builds of the payment service (child processes), with the
// machine's PostgreSQL and a redis-server this test starts itself. The experiment must tell a
// fragile build from a resilient one, catch the pool refactor, and never call a run "held"
// when the service's traffic bypassed the proxy.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DemoStack, type ScenarioRun } from '../../src/demo/stack.js';
import type { Build } from '../../src/demo/payment-service.js';
import type { ScenarioName } from '../../src/demo/scenarios.js';

const DATABASE_URL = process.env['FAULTLINE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('demo scenarios end to end (real PostgreSQL, own Redis, real runner)', () => {
  let dir: string;
  let stack: DemoStack;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-demo-e2e-'));
    stack = await DemoStack.start({ workDir: dir, databaseUrl: DATABASE_URL });
    assert.ok(stack.redis, `a Redis is needed: ${stack.redisSkipped}`);
    assert.match(stack.redis.describe, /private redis-server/, 'the test runs its own redis-server');
  });
  after(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function explain(run: ScenarioRun): string {
    const f = run.journal.faultline;
    return `${run.scenario}/${run.build}: ${f.outcome} — ${f.reason}; faults ${JSON.stringify(f.faults.map((x) => [x.name, x.state, x.error]))}`;
  }

  function assertClean(run: ScenarioRun): void {
    for (const fault of run.journal.faultline.faults) assert.equal(fault.state, 'removed', `${fault.name} removed: ${explain(run)}`);
    assert.equal(run.reconciliation.missing, 0, `no acknowledged payment lost: ${JSON.stringify(run.reconciliation)}`);
    assert.ok(run.reconciliation.acknowledged > 50, `payments were made: ${JSON.stringify(run.reconciliation)}`);
  }

  const scenarios: ScenarioName[] = ['payment-db-latency', 'redis-outage', 'auth-latency'];
  for (const scenario of scenarios) {
    it(`${scenario}: the fragile build deviates or is aborted`, { timeout: 120_000 }, async () => {
      const run = await stack.runScenario({ build: 'fragile', scenario });
      assert.ok(['deviated', 'aborted'].includes(String(run.journal.faultline.outcome)), explain(run));
      const during = run.journal.faultline.load!.phases.method as { p99: number; error_rate: number };
      assert.ok(during.error_rate > 0.05 || during.p99 > 2000, `the numbers show it: ${JSON.stringify(during)}`);
      assertClean(run);
    });

    it(`${scenario}: the resilient build holds`, { timeout: 120_000 }, async () => {
      const run = await stack.runScenario({ build: 'resilient', scenario });
      assert.equal(run.journal.faultline.outcome, 'held', explain(run));
      assert.equal(run.crashed, undefined, 'the service did not crash');
      const fault = run.journal.faultline.faults[0]!;
      // Toxics count what they touched; an outage (disable) has no toxic to count with.
      if (fault.location.kind === 'toxic') assert.ok((fault.touched?.connections ?? 0) > 0, 'the fault touched the service’s traffic');
      assertClean(run);
    });
  }

  it('the pool refactor (4 connections, no queue) is caught under DB latency', { timeout: 120_000 }, async () => {
    const run = await stack.runScenario({ build: 'pool-refactor' as Build, scenario: 'payment-db-latency' });
    assert.ok(['deviated', 'aborted'].includes(String(run.journal.faultline.outcome)), explain(run));
    const during = run.journal.faultline.load!.phases.method as { error_rate: number };
    assert.ok(during.error_rate > 0.01, `requests were rejected instead of queued: ${JSON.stringify(during)}`);
    assertClean(run);
  });

  it('a service configured with the real database address is inconclusive, never held', { timeout: 120_000 }, async () => {
    const run = await stack.runScenario({ build: 'resilient', scenario: 'payment-db-latency', bypassProxy: true });
    assert.equal(run.journal.faultline.outcome, 'inconclusive', explain(run));
    assert.equal(run.journal.faultline.exit_code, 4);
    assert.match(run.journal.faultline.reason ?? '', /touched no traffic/);
  });
});
