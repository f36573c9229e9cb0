/**
 * The demo scenarios' shared test set-up: a DemoStack on a PostgreSQL server of its own (initdb +
 * pg_ctl, max_connections 300) with a redis-server of its own, started before a suite and closed
 * after it, and the checks every scenario run shares. A server of its own because the suites run
 * their scenarios at the same time: three resilient builds hold 32 connections each, and the
 * machine's server allows 100 in all (measured: "sorry, too many clients already" once a second
 * suite ran beside). Used by test/paired/demo-scenarios.test.ts (fragile builds, the bypass) and
 * test/paired/demo-scenarios-resilient.test.ts (resilient builds, the pool refactor).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { DemoStack, type ScenarioRun } from '../../src/demo/stack.js';
import { hypothesisRows } from '../../src/reporting/hypotheses.js';
import { startPostgres, type PrivatePostgres } from './private-postgres.js';

/** Starts a stack before the suite and closes it after; `get()` is the running stack. */
export function demoStackForSuite(): { get: () => DemoStack } {
  let dir: string | undefined;
  let stack: DemoStack | undefined;
  let postgres: PrivatePostgres | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-demo-e2e-'));
    postgres = await startPostgres({ max_connections: 300 });
    stack = await DemoStack.start({ workDir: dir, databaseUrl: postgres.url() });
    assert.ok(stack.redis, `a Redis is needed: ${String(stack.redisSkipped)}`);
    assert.match(
      stack.redis.describe,
      /private redis-server/,
      'the test runs its own redis-server',
    );
  });
  after(async () => {
    await stack?.close();
    await postgres?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get: () => {
      assert.ok(stack, 'the demo stack started');
      return stack;
    },
  };
}

/** One line saying how a scenario run ended, for assertion messages. */
export function explain(run: ScenarioRun): string {
  const f = run.journal.faultline;
  // What missed, with its measured value: "unhealthy before any fault" alone does not say
  // whether the baseline failed on latency, on errors or on a probe's answer.
  const missed = hypothesisRows(run.journal)
    .filter((r) => !r.met)
    .map((r) => `${r.phase} ${r.name}: expected ${r.expected}, measured ${r.measured}`);
  return `${run.scenario}/${run.build}: ${String(f.outcome)} — ${String(f.reason)}; faults ${JSON.stringify(f.faults.map((x) => [x.name, x.state, x.error]))}; missed ${JSON.stringify(missed)}`;
}

/** What the steady state before the method measured, check by check, for a test's output. */
export function baselineLine(run: ScenarioRun): string {
  const before = hypothesisRows(run.journal).filter((r) => r.phase === 'before');
  return `${run.scenario}/${run.build} before the method: ${before.map((r) => `${r.name} ${r.met ? 'met' : 'MISSED'} at ${r.measured}`).join('; ')}`;
}

/** Every fault removed, and no acknowledged payment lost among many made. */
export function assertClean(run: ScenarioRun): void {
  for (const fault of run.journal.faultline.faults)
    assert.equal(fault.state, 'removed', `${fault.name} removed: ${explain(run)}`);
  assert.equal(
    run.reconciliation.missing,
    0,
    `no acknowledged payment lost: ${JSON.stringify(run.reconciliation)}`,
  );
  assert.ok(
    run.reconciliation.acknowledged > 50,
    `payments were made: ${JSON.stringify(run.reconciliation)}`,
  );
}
