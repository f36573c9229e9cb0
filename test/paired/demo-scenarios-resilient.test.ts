// The end-to-end proof behind `faultline demo`: the brief's three first scenarios, each run by
// the real runner against real builds of the payment service (child processes), with the
// machine's PostgreSQL and a redis-server this test starts itself. Here the resilient build
// holds each one, and the pool refactor is caught. Paired (test/paired/: two files at a time,
// nothing else beside them): holding means meeting latency thresholds, and the pool refactor's
// steady state before the fault must hold, which a machine busy with the integration group can
// spoil. The fragile build found out and the bypass
// never held are in test/paired/demo-scenarios.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertClean, baselineLine, demoStackForSuite, explain } from '../helpers/demo-stack.js';
import type { Build } from '../../src/demo/payment-service.js';
import type { ScenarioName } from '../../src/demo/scenarios.js';
import { hypothesisRows } from '../../src/reporting/hypotheses.js';
import type { ScenarioRun } from '../../src/demo/stack.js';
import { proxyAt } from '../helpers/locations.js';

/**
 * auth-latency proves *no cascade*: with every auth call held 6 s, the resilient build's 1 s
 * timeout and breaker keep payments flowing. The scenario's `p99 < 2s` sits 1 s above that
 * timeout, a margin CPU load (a load average of 6 on 2 cores) can eat while the breaker is
 * half-open; a cascade would put p99 at the fault's 6 s. So the run holds, or deviates on
 * latency alone with its worst window under half the fault (3 s) — never on errors, never
 * aborted, and the breaker probe holds either way.
 */
function assertNoCascade(run: ScenarioRun): void {
  const outcome = run.journal.faultline.outcome;
  if (outcome === 'held') return;
  assert.equal(outcome, 'deviated', explain(run));
  const failed = hypothesisRows(run.journal).filter((r) => !r.met);
  for (const row of failed) {
    assert.ok(
      row.kind === 'threshold' && /^p\d+ </.test(row.expected),
      `only a latency bound may miss under CPU load, not ${row.phase} ${row.name}: ${explain(run)}`,
    );
    const worst = Number(/[\d.]+/.exec(row.measured)?.[0] ?? NaN);
    assert.ok(
      worst < 3_000,
      `${row.name} at ${row.measured}: a cascade, not load: ${explain(run)}`,
    );
  }
}

describe('demo scenarios end to end: the resilient build holds, the pool refactor is caught (real PostgreSQL, own Redis, real runner)', () => {
  const demo = demoStackForSuite();

  // The three at once: each run has its own service process, proxies, ports and ledger, and they
  // spend their time waiting on the clock (baseline, fault, recovery) at 25 requests a second, so
  // together they take the time of the longest instead of the sum (measured: 29 s against 77 s).
  describe('the three scenarios, run at the same time', { concurrency: true }, () => {
    const scenarios: ScenarioName[] = ['payment-db-latency', 'redis-outage', 'auth-latency'];
    for (const scenario of scenarios) {
      it(`${scenario}: the resilient build holds`, { timeout: 120_000 }, async (t) => {
        const run = await demo.get().runScenario({ build: 'resilient', scenario });
        // The margin the baseline had (p99 < 2s, errors < 1 %), in the test's output.
        t.diagnostic(baselineLine(run));
        if (scenario === 'auth-latency') assertNoCascade(run);
        else assert.equal(run.journal.faultline.outcome, 'held', explain(run));
        assert.equal(run.crashed, undefined, 'the service did not crash');
        const fault = run.journal.faultline.faults[0]!;
        // Toxics count what they touched; an outage (disable) has no toxic to count with.
        if (proxyAt(fault.location).kind === 'toxic')
          assert.ok(
            (fault.touched?.connections ?? 0) > 0,
            'the fault touched the service’s traffic',
          );
        assertClean(run);
      });
    }
  });

  // Alone, after them: the pool refactor's steady state before the fault must hold with only 4
  // connections and no queue, and three services starting beside it spoil that baseline
  // (measured: inconclusive, unhealthy before any fault).
  it(
    'the pool refactor (4 connections, no queue) is caught under DB latency',
    { timeout: 120_000 },
    async () => {
      const run = await demo.get().runScenario({
        build: 'pool-refactor' as Build,
        scenario: 'payment-db-latency',
      });
      assert.ok(
        ['deviated', 'aborted'].includes(String(run.journal.faultline.outcome)),
        explain(run),
      );
      const during = run.journal.faultline.load!.phases.method as { error_rate: number };
      assert.ok(
        during.error_rate > 0.01,
        `requests were rejected instead of queued: ${JSON.stringify(during)}`,
      );
      assertClean(run);
    },
  );
});
