// The redis fault family against a redis-server this test starts on a free port (never the
// shared 6379), with ioredis clients as the application. Each fault runs through the runner
// from an experiment, is observed from the client's side while it is held, removed, and proven
// gone; then the runner is SIGKILLed mid-fault and the lease or `faultline recover` ends it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { findAgents } from '../../src/backends/local/agent.js';
import type { Journal } from '../../src/journal/journal.js';
import type { RunEvent } from '../../src/runner/runner.js';
import { startRedis, type PrivateRedis } from '../helpers/private-brokers.js';
import {
  startRunner,
  killRunner,
  runFaultline,
  type RunnerChild,
} from '../helpers/runner-child.js';
import { runExperimentDoc } from '../helpers/run-experiment.js';
import { localAt } from '../helpers/locations.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

describe('redis faults (private redis-server)', { skip: needTool(TOOLS.redisServer) }, () => {
  let redis: PrivateRedis;
  let dir: string;
  let runs = 0;

  before(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'fl-redis-faults-'));
  });
  after(async () => {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function experiment(method: unknown[]): Record<string, unknown> {
    return {
      title: 'redis fault',
      targets: { cache: { type: 'redis', url: redis.url } },
      method,
      safety: { maxDuration: '60s' },
    };
  }

  /** Runs in-process; `onEvent` sees the faults applied and removed (with their times). */
  async function run(
    doc: Record<string, unknown>,
    onEvent?: (e: RunEvent, at: number) => void,
  ): Promise<Journal> {
    return runExperimentDoc(doc, {
      file: `redis-${++runs}.yaml`,
      journalPath: join(dir, `${runs}.json`),
      onEvent,
    });
  }

  it(
    'redis-pause (write): a real client write blocks until removal, reads go on, the pause is gone after',
    { timeout: 60_000 },
    async () => {
      const app = redis.client('app', { commandTimeout: 30_000 });
      const reader = redis.client('app-reader', { commandTimeout: 30_000 });
      await app.set('k', 'before');
      await reader.ping();
      try {
        let appliedAt = 0;
        let removedAt = 0;
        let write: Promise<number> | undefined;
        let read: Promise<number> | undefined;
        const journal = await run(
          experiment([
            { fault: 'redis-pause', target: 'cache', mode: 'write', duration: '2s', name: 'pause' },
          ]),
          (e, at) => {
            if (e.type === 'fault-applied') {
              write = app.set('k', 'during').then(() => Date.now());
              read = reader.get('k').then(() => Date.now());
              appliedAt = at;
            }
            if (e.type === 'fault-removed') removedAt = at;
          },
        );
        assert.ok(write && read, 'the fault was applied');
        const [wroteAt, readAt] = [await write, await read];
        const fault = journal.faultline.faults[0]!;
        assert.equal(fault.state, 'removed', fault.error);
        // Held for the planned 2 s and released by the removal (whose event is emitted once the
        // journal is saved, so the write may be answered a moment before it), not by the lease.
        assert.ok(
          wroteAt >= appliedAt + 1_900,
          `the write waited for the removal (answered ${wroteAt - appliedAt} ms after the pause began)`,
        );
        assert.ok(
          wroteAt <= removedAt + 100,
          `released by the removal (answered ${wroteAt - removedAt} ms after it)`,
        );
        assert.ok(readAt < removedAt, 'the read was answered during the write pause');
        assert.equal(await app.get('k'), 'during');
        assert.ok(
          (fault.touched?.connections ?? 0) >= 1,
          'the application was connected during the pause',
        );
        assert.deepEqual(journal.faultline.verification, [{ fault: 'pause', gone: true }]);
        const handle = localAt(fault.location).handle as { until: number; mode: string };
        assert.equal(handle.mode, 'WRITE');
        assert.ok(
          handle.until > Date.now(),
          'removed well before the deadline Redis would have enforced',
        );
      } finally {
        // Always: a client left connected would be matched by a later test's app-* pattern.
        app.disconnect();
        reader.disconnect();
      }
    },
  );

  it(
    'redis-pause (all): reads and writes wait until removal, which CLIENT UNPAUSE could not do',
    { timeout: 60_000 },
    async () => {
      const app = redis.client('app', { commandTimeout: 30_000 });
      await app.ping();
      let removedAt = 0;
      let appliedAt = 0;
      const answers: Promise<number>[] = [];
      const journal = await run(
        experiment([
          { fault: 'redis-pause', target: 'cache', mode: 'all', duration: '3s', name: 'pause-all' },
        ]),
        (e, at) => {
          if (e.type === 'fault-applied') {
            appliedAt = at;
            answers.push(app.get('k').then(() => Date.now()));
            // A second command later in the pause: the slices join up without a gap.
            setTimeout(() => answers.push(app.set('k', 'late').then(() => Date.now())), 1_200);
          }
          if (e.type === 'fault-removed') removedAt = at;
        },
      );
      assert.equal(answers.length, 2);
      for (const answered of await Promise.all(answers)) {
        // Held for the whole planned 3 s (no gap between the agent's slices), released by the removal.
        assert.ok(
          answered >= appliedAt + 2_900,
          `answered ${answered - appliedAt} ms after the pause began`,
        );
        assert.ok(
          answered <= removedAt + 100,
          `answered ${answered - removedAt} ms after the removal finished`,
        );
      }
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', fault.error);
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.deepEqual(journal.faultline.verification, [{ fault: 'pause-all', gone: true }]);
      app.disconnect();
    },
  );

  it(
    "redis-kill-clients: the application's matching connections are dropped, others and faultline's own survive",
    { timeout: 60_000 },
    async () => {
      const victim = redis.client('app-orders', { retryStrategy: () => null });
      const bystander = redis.client('bystander');
      const own = redis.client('fl-own-connection');
      await Promise.all([victim.ping(), bystander.ping(), own.ping()]);
      const closed = once(victim, 'end');
      const journal = await run(
        experiment([
          {
            fault: 'redis-kill-clients',
            target: 'cache',
            match: { name: 'app-*' },
            duration: '1s',
            name: 'kill',
          },
        ]),
      );
      await closed; // the application saw its connection go
      assert.equal(victim.status, 'end');
      assert.equal(await bystander.ping(), 'PONG');
      assert.equal(await own.ping(), 'PONG');
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', fault.error);
      assert.equal(fault.touched?.connections, 1);
      assert.match(
        (localAt(fault.location).handle as { killed: string[] }).killed[0]!,
        / app-orders$/,
      );
      assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    },
  );

  it(
    'redis-kill-clients every: a reconnecting client is dropped again and again, and left alone after removal',
    { timeout: 60_000 },
    async () => {
      const app = redis.client('app-worker', { retryStrategy: () => 20 });
      await app.ping();
      let drops = 0;
      app.on('close', () => drops++);
      const journal = await run(
        experiment([
          {
            fault: 'redis-kill-clients',
            target: 'cache',
            match: { name: 'app-worker' },
            every: '300ms',
            duration: '2500ms',
            name: 'kill-often',
          },
        ]),
      );
      const fault = journal.faultline.faults[0]!;
      assert.ok(drops >= 3, `dropped ${drops} times`);
      assert.equal(
        fault.touched?.connections,
        (localAt(fault.location).handle as { killed: string[] }).killed.length,
      );
      const afterRun = drops;
      await waitFor('the client back', async () => (await app.ping()) === 'PONG', {
        timeoutMs: 5_000,
        ignoreErrors: true,
      });
      await new Promise((r) => setTimeout(r, 1_000)); // three intervals: a kill would have come
      assert.equal(drops, afterRun, 'no kill after removal');
      app.disconnect();
    },
  );

  it(
    'redis-maxmemory: writes fail with OOM under noeviction, the original limit and policy come back exactly',
    { timeout: 60_000 },
    async () => {
      const admin = redis.client('test-admin');
      await admin.config('SET', 'maxmemory', '987654321');
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lfu');
      const app = redis.client('app');
      let during: unknown;
      const journal = await run(
        experiment([
          {
            fault: 'redis-maxmemory',
            target: 'cache',
            maxmemory: '50%',
            duration: '2s',
            name: 'squeeze',
          },
        ]),
        (e) => {
          if (e.type === 'fault-applied')
            during = app.set('new-key', 'x'.repeat(1000)).catch((err: Error) => err);
        },
      );
      const error = await during;
      assert.ok(
        error instanceof Error && /OOM/.test(error.message),
        `the write failed with OOM (got ${String(error)})`,
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', fault.error);
      assert.ok((fault.touched?.requests ?? 0) >= 1, 'the refused write is counted');
      assert.deepEqual((localAt(fault.location).handle as { original: unknown }).original, {
        maxmemory: '987654321',
        policy: 'allkeys-lfu',
      });
      assert.deepEqual(await admin.config('GET', 'maxmemory'), ['maxmemory', '987654321']);
      assert.deepEqual(await admin.config('GET', 'maxmemory-policy'), [
        'maxmemory-policy',
        'allkeys-lfu',
      ]);
      assert.equal(await app.set('new-key', 'ok'), 'OK');
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.deepEqual(journal.faultline.verification, [{ fault: 'squeeze', gone: true }]);
      await admin.config('SET', 'maxmemory', '0');
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    },
  );

  describe('a SIGKILLed runner (faultline run as a child process)', () => {
    // A 2 s lease grace (FAULTLINE_LEASE_GRACE_SECONDS) instead of 5: the lease test waits less.
    const start = (file: string, stateDir: string): RunnerChild =>
      startRunner(['run', file], { stateDir, cwd: dir, leaseGraceSeconds: 2 });

    it(
      'redis-maxmemory: the agent restores the original at the deadline by itself',
      { timeout: 90_000 },
      async () => {
        const admin = redis.client('test-admin');
        await admin.config('SET', 'maxmemory', '555555555');
        const file = join(dir, 'lease.yaml');
        await writeFile(
          file,
          stringify(
            experiment([
              {
                fault: 'redis-maxmemory',
                target: 'cache',
                maxmemory: '1MB',
                duration: '1s',
                name: 'leased',
              },
              { wait: '60s' },
            ]),
          ),
        );
        const stateDir = join(dir, 'state-lease');
        const run = start(file, stateDir);
        await run.applied;
        await killRunner(run.child);
        assert.deepEqual(
          await admin.config('GET', 'maxmemory'),
          ['maxmemory', String(1024 * 1024)],
          'the dead runner left the lowered limit',
        );
        const journal = JSON.parse(
          await readFile(join(stateDir, (await readdir(stateDir)).at(-1)!), 'utf8'),
        ) as Journal;
        const deadline = Date.parse(journal.faultline.faults[0]!.expires_at!);
        await waitFor(
          'the agent to restore maxmemory',
          async () => ((await admin.config('GET', 'maxmemory')) as string[])[1] === '555555555',
          { timeoutMs: 30_000, ignoreErrors: true },
        );
        assert.ok(Date.now() >= deadline - 1_000, 'not before its deadline');
        await admin.config('SET', 'maxmemory', '0');
      },
    );

    it(
      'redis-pause (all): the agent outlives the runner; faultline recover ends the pause at once',
      { timeout: 90_000 },
      async () => {
        const app = redis.client('app', { commandTimeout: 60_000 });
        const file = join(dir, 'pause.yaml');
        await writeFile(
          file,
          stringify(
            experiment([
              {
                fault: 'redis-pause',
                target: 'cache',
                mode: 'all',
                duration: '30s',
                name: 'frozen',
              },
            ]),
          ),
        );
        const stateDir = join(dir, 'state-pause');
        const run = start(file, stateDir);
        await run.applied;
        await killRunner(run.child);
        let answered = 0;
        const write = app.set('k', 'x').then(() => (answered = Date.now()));
        const journal = JSON.parse(
          await readFile(join(stateDir, (await readdir(stateDir)).at(-1)!), 'utf8'),
        ) as Journal;
        assert.ok(
          Date.parse(journal.faultline.faults[0]!.expires_at!) - Date.now() < 40_000,
          'the pause carries a lease',
        );
        // Still paused: a command sent now has not been answered by the time recover starts.
        const startedRecover = Date.now();
        const { code, output: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
        assert.equal(code, 0, out);
        assert.match(out, /frozen.*removed/);
        await write;
        assert.ok(answered >= startedRecover, 'the write was held until recover lifted the pause');
        app.disconnect();
      },
    );
  });
});
