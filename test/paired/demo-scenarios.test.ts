// The end-to-end proof behind `faultline demo`: the brief's three first scenarios, each run by
// the real runner against real builds of the payment service (child processes), with the
// machine's PostgreSQL and a redis-server this test starts itself. Here the fragile build is
// found out by each one (deviated or aborted, with numbers that show it), and a run whose
// traffic bypassed the proxy is never called "held". The resilient build holding them and the
// pool refactor caught are in test/paired/demo-scenarios-resilient.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertClean, demoStackForSuite, explain } from '../helpers/demo-stack.js';
import type { ScenarioName } from '../../src/demo/scenarios.js';
import { crashLine, verdictLines } from '../../src/demo/demo.js';

describe(
  'demo scenarios end to end: fragile builds found out, a bypass never held (real PostgreSQL, own Redis, real runner)',
  { concurrency: true },
  () => {
    const demo = demoStackForSuite();
    // All five at once: each run has its own service process, proxies, ports and ledger, and a
    // fragile build found out, or a bypass that touched nothing, is the verdict however busy the
    // machine is; together they take the time of the longest run instead of the sum.

    const scenarios: ScenarioName[] = ['payment-db-latency', 'redis-outage', 'auth-latency'];
    for (const scenario of scenarios) {
      it(
        `${scenario}: the fragile build deviates or is aborted`,
        { timeout: 120_000 },
        async () => {
          const run = await demo.get().runScenario({ build: 'fragile', scenario });
          assert.ok(
            ['deviated', 'aborted'].includes(String(run.journal.faultline.outcome)),
            explain(run),
          );
          const during = run.journal.faultline.load!.phases.method as {
            p99: number;
            error_rate: number;
          };
          assert.ok(
            during.error_rate > 0.05 || during.p99 > 2000,
            `the numbers show it: ${JSON.stringify(during)}`,
          );
          assertClean(run);
        },
      );
    }

    it(
      'payment-db-latency: the fragile build crashes on its first database timeout, a real exit the verdict names',
      { timeout: 120_000 },
      async () => {
        const run = await demo
          .get()
          .runScenario({ build: 'fragile', scenario: 'payment-db-latency' });
        assert.ok(run.crashed, `the service process exited during the run: ${explain(run)}`);
        assert.equal(run.crashed.code, 1, `exit code 1 (an unhandled rejection): ${explain(run)}`);
        assert.ok(
          run.crashed.stderr.some((l) => /timeout exceeded when trying to connect/.test(l)),
          `it died of the pool's timeout: ${run.crashed.stderr.join(' | ')}`,
        );
        const fault = run.journal.faultline.faults[0];
        assert.ok(fault?.applied_at, `the fault was applied (the gate passed): ${explain(run)}`);
        const applied = Date.parse(fault.applied_at);
        assert.ok(
          run.crashed.at > applied,
          `it crashed after the fault was applied, not before: ${run.crashed.at - applied} ms`,
        );
        assert.match(
          crashLine(run) ?? '',
          /^the service under test CRASHED \(exit code 1\) .* after the fault was applied: .*timeout/,
        );
        assert.equal(
          verdictLines(run)[1]?.trim(),
          crashLine(run),
          "the crash is the verdict's second line",
        );
        assertClean(run);
      },
    );

    it(
      'a service configured with the real database address is inconclusive, never held',
      { timeout: 120_000 },
      async () => {
        const run = await demo.get().runScenario({
          build: 'resilient',
          scenario: 'payment-db-latency',
          bypassProxy: true,
        });
        assert.equal(run.journal.faultline.outcome, 'inconclusive', explain(run));
        assert.equal(run.journal.faultline.exit_code, 4);
        assert.match(run.journal.faultline.reason ?? '', /touched no traffic/);
      },
    );
  },
);
