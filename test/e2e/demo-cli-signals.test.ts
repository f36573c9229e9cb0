// `faultline demo` interrupted in the middle of a fault, as a user would: Ctrl-C (exit 130, the
// fault removed) and SIGKILL (no handler runs: the service and redis-server it started stop by
// themselves); nothing it started is left running. The run start to finish, whose verdicts are
// timing-sensitive, is test/paired/demo-cli.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  hasRedisServer,
  leftovers,
  processesUsing,
  startDemo,
  waitForFault,
} from '../helpers/demo-cli.js';
import { waitFor } from '../helpers/wait-for.js';

describe('faultline demo interrupted (the CLI, embedded PostgreSQL)', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'faultline-demo-cli-signals-'));
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it(
    'Ctrl-C during the fault: exit 130, the fault removed, nothing left running',
    { timeout: 120_000 },
    async () => {
      const demo = startDemo(cwd, ['--dir', join(cwd, 'interrupted')]);
      await waitForFault(demo);
      demo.child.kill('SIGINT');
      const code = await demo.exited;
      const out = demo.output();
      assert.equal(code, 130, out);
      assert.match(out, /↺ latency-1 removed/);
      assert.match(out, /interrupted/);
      assert.deepEqual(await leftovers(demo), []);
    },
  );

  it(
    'SIGKILLed during the fault: the service and redis-server it started stop by themselves',
    { timeout: 120_000 },
    async () => {
      const demo = startDemo(cwd, ['--dir', join(cwd, 'killed')]);
      await waitForFault(demo);
      const before = await processesUsing(cwd);
      assert.ok(
        before.some((p) => p.includes('payment-service-main')),
        `the payment service runs: ${before.join('\n')}`,
      );
      if (hasRedisServer)
        assert.ok(
          (await leftovers(demo)).some((p) => p.startsWith('redis-server')),
          'the private redis-server runs',
        );
      // No exit hook, no signal handler runs: only the pipes the kernel closes tell the children.
      demo.child.kill('SIGKILL');
      await demo.exited;
      let left: string[] = [];
      await waitFor(
        'everything the demo started to stop',
        async () => (left = await leftovers(demo)).length === 0,
        { timeoutMs: 15_000, intervalMs: 100 },
      ).catch(() => undefined);
      assert.deepEqual(left, [], 'nothing the demo started outlives it');
    },
  );
});
