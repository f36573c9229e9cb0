// The postgres fault family against a PostgreSQL server this test creates (initdb + pg_ctl on a
// free port, max_connections 20), never the shared 5432. Real node-postgres clients play the
// application (a non-superuser role `app` on database `shop`); each fault runs through the
// runner from an experiment, is observed from the application's side while held, removed, and
// proven gone (no agent, no session with the fault's tag in pg_stat_activity); then the runner
// is SIGKILLed mid-lock and the agent's lease or `faultline recover` ends the lock.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { parse, stringify } from 'yaml';
import { ValidationError } from '../../src/errors.js';
import { parseExperiment } from '../../src/run-plan/read-experiment.js';
import { findAgents } from '../../src/backends/local/agent.js';
import type { Journal } from '../../src/journal/journal.js';
import type { RunEvent } from '../../src/runner/runner.js';
import { startPostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
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

const root = fileURLToPath(new URL('../../', import.meta.url));
const ROWS = 40_000;

/** initdb and pg_ctl start the private server (skipped with the install line without them). */
const noPg = needTool(TOOLS.postgres);

describe('postgres faults (private PostgreSQL, max_connections 20)', { skip: noPg }, () => {
  let server: PrivatePostgres;
  let admin: pg.Client;
  let dir: string;
  let runs = 0;

  before(async () => {
    server = await startPostgres({ max_connections: 20, superuser_reserved_connections: 3 });
    const setup = await server.client();
    await setup.query('CREATE ROLE app LOGIN');
    await setup.query('CREATE DATABASE shop OWNER app');
    await setup.end();
    const owner = await server.client({ user: 'app', database: 'shop' });
    await owner.query('CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL)');
    await owner.query(
      `INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, ${ROWS}) g`,
    );
    await owner.end();
    admin = await server.client({ database: 'shop', application: 'test-admin' });
    dir = await mkdtemp(join(tmpdir(), 'fl-pg-faults-'));
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The administrative URL faults use (the superuser, on shop). */
  const adminUrl = (): string => server.url('postgres', 'shop');

  function experiment(
    method: unknown[],
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> {
    return {
      title: 'postgres fault',
      targets: { db: { type: 'postgres', url: adminUrl() } },
      method,
      safety: { maxDuration: '90s' },
      ...extra,
    };
  }

  async function run(
    doc: Record<string, unknown>,
    onEvent?: (e: RunEvent, at: number) => void,
    signal?: AbortSignal,
  ): Promise<Journal> {
    return runExperimentDoc(doc, {
      file: `pg-${++runs}.yaml`,
      journalPath: join(dir, `${runs}.json`),
      onEvent,
      signal,
    });
  }

  async function tagged(tag: string): Promise<number> {
    return (
      await admin.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [tag],
      )
    ).rows[0].n as number;
  }

  /** The fault left nothing: removed, verified gone, no agent, no tagged session. */
  async function assertGone(journal: Journal, name: string): Promise<string> {
    const fault = journal.faultline.faults.find((f) => f.name === name)!;
    assert.equal(fault.state, 'removed', fault.error);
    assert.deepEqual(journal.faultline.verification, [{ fault: name, gone: true }]);
    const tag = localAt(fault.location).tag!;
    assert.deepEqual(await findAgents(tag), []);
    assert.equal(await tagged(tag), 0, 'no session with the tag is left');
    return tag;
  }

  it(
    'pg-lock: an INSERT of the application waits until removal, then completes; the lock is gone',
    { timeout: 60_000 },
    async (t) => {
      const app = await server.client({ user: 'app', database: 'shop', application: 'shop-api' });
      // Ended even when an assertion fails: a leftover shop-api session would be the next
      // test's (pg-terminate matches shop-*).
      t.after(() => app.end().catch(() => undefined));
      let insert: Promise<number> | undefined;
      let removedAt = 0;
      let appliedAt = 0;
      let blockedSeen = false;
      let locked: { tag: string; count: number } | undefined;
      const journal = await run(
        experiment([
          { fault: 'pg-lock', target: 'db', table: 'orders', duration: '2s', name: 'lock' },
        ]),
        (e, at) => {
          if (e.type === 'fault-applied') {
            appliedAt = at;
            insert = app
              .query("INSERT INTO orders (note) VALUES ('during the lock')")
              .then(() => Date.now());
            const tag = localAt(e.fault.location).tag!;
            // From outside: the tagged session holds the lock, and the insert waits on it.
            void (async () => {
              const { rows } = await admin.query(
                "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = $1 AND l.mode = 'AccessExclusiveLock' AND l.granted AND l.relation = 'orders'::regclass",
                [tag],
              );
              locked = { tag, count: rows[0].n as number };
              await waitFor(
                'the insert to wait on the lock',
                async () =>
                  (
                    await admin.query(
                      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'shop-api' AND wait_event_type = 'Lock'",
                    )
                  ).rows[0].n === 1,
                { timeoutMs: 10_000, ignoreErrors: true },
              );
              blockedSeen = true;
            })();
          }
          if (e.type === 'fault-removed') removedAt = at;
        },
      );
      assert.ok(insert, 'the fault was applied');
      const insertedAt = await insert;
      assert.ok(blockedSeen, 'pg_stat_activity showed the insert waiting on a lock');
      assert.equal(locked?.count, 1, 'the tagged session held ACCESS EXCLUSIVE on orders');
      // The lock ends when the removal starts; its event comes once the removal is done (the
      // agent gone, the session checked), which on a busy machine is a few hundred ms later.
      assert.ok(
        insertedAt >= removedAt - 1_000 && insertedAt - appliedAt >= 1_500,
        `the insert waited for the removal (${insertedAt - appliedAt} ms after apply, ${insertedAt - removedAt} ms after removal)`,
      );
      assert.equal(
        (await app.query("SELECT count(*)::int AS n FROM orders WHERE note = 'during the lock'"))
          .rows[0].n,
        1,
        'and then completed',
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.touched?.connections, 1, 'one application session waited on the lock');
      await assertGone(journal, 'lock');
      assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    },
  );

  it(
    'pg-lock on a table that does not exist: refused before anything is applied, with the name and a hint',
    { timeout: 60_000 },
    async () => {
      const journal = await run(
        experiment([
          { fault: 'pg-lock', target: 'db', table: 'ordres', duration: '2s', name: 'typo' },
        ]),
      );
      assert.match(
        journal.faultline.reason ?? '',
        /table "ordres" does not exist in database shop/,
      );
      assert.match(journal.faultline.reason ?? '', /hint: tables there: orders/);
      assert.doesNotMatch(journal.faultline.reason ?? '', /\*\*\*|password/);
      assert.equal(journal.faultline.faults.length, 0, 'nothing was applied');
    },
  );

  it(
    'pg-pool-exhaustion (leave 0): a new application connection is refused, superuser slots stay free, it works after removal',
    { timeout: 60_000 },
    async () => {
      let refusal: unknown;
      let superuserGotIn = false;
      let held: number | undefined;
      const journal = await run(
        experiment([
          { fault: 'pg-pool-exhaustion', target: 'db', leave: 0, duration: '3s', name: 'pool' },
        ]),
        (e) => {
          if (e.type === 'fault-applied') {
            held = (localAt(e.fault.location).handle as { info: { held: number } }).info.held;
            void (async () => {
              try {
                const c = await server.client({
                  user: 'app',
                  database: 'shop',
                  application: 'shop-api',
                });
                refusal = 'connected';
                await c.end();
              } catch (err) {
                refusal = err;
              }
              // The reserved slots were not taken: a superuser still gets in.
              const su = await server.client({ database: 'shop', application: 'test-su' });
              await su.query('SELECT 1');
              superuserGotIn = true;
              await su.end();
            })();
          }
        },
      );
      await waitFor('the superuser check', async () => superuserGotIn, {
        timeoutMs: 10_000,
        ignoreErrors: true,
      });
      assert.ok(
        refusal instanceof Error,
        `the application's connection was refused (got ${String(refusal)})`,
      );
      assert.match(refusal.message, /too many clients|remaining connection slots are reserved/);
      // 20 − 3 reserved − the test's own admin session − the runner's control session at the time.
      assert.ok(held !== undefined && held >= 14 && held <= 16, `held ${held} slots`);
      await assertGone(journal, 'pool');
      const app = await server.client({ user: 'app', database: 'shop', application: 'shop-api' });
      assert.equal(
        (await app.query('SELECT 1 AS one')).rows[0].one,
        1,
        'the application connects again',
      );
      await app.end();
    },
  );

  it(
    'pg-pool-exhaustion: more connections than are free is refused, naming the figures',
    { timeout: 60_000 },
    async () => {
      const journal = await run(
        experiment([
          {
            fault: 'pg-pool-exhaustion',
            target: 'db',
            connections: 17,
            duration: '2s',
            name: 'too-many',
          },
        ]),
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'failed');
      assert.match(
        fault.error ?? '',
        /cannot hold 17 connections without taking reserved slots \(max_connections 20, 3 reserved for superusers, \d+ in use by other sessions: \d+ free\)/,
      );
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.equal(await tagged(localAt(fault.location).tag!), 0);
      const never = await run(
        experiment([
          {
            fault: 'pg-pool-exhaustion',
            target: 'db',
            connections: 50,
            duration: '2s',
            name: 'never',
          },
        ]),
      );
      assert.match(
        never.faultline.reason ?? '',
        /50 connections can never fit: max_connections is 20 with 3 reserved/,
      );
    },
  );

  it(
    "pg-slow-queries (table): the busy sessions show in pg_stat_activity and make the application's query slower",
    { timeout: 120_000 },
    async () => {
      const app = await server.client({
        user: 'app',
        database: 'shop',
        application: 'shop-report',
      });
      const query =
        'SELECT count(*) FROM (SELECT md5(o::text || g) AS h FROM orders o, generate_series(1, 3) g ORDER BY h) s';
      const time = async (): Promise<number> => {
        const start = performance.now();
        await app.query(query);
        return performance.now() - start;
      };
      const median = (xs: number[]): number =>
        [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      await time(); // warm the cache
      const baseline = median([await time(), await time(), await time()]);
      let during: number[] = [];
      let busy = 0;
      let measured: Promise<number> | undefined;
      let removedAt = 0;
      const journal = await run(
        experiment([
          {
            fault: 'pg-slow-queries',
            target: 'db',
            table: 'orders',
            sessions: 6,
            duration: `${Math.ceil((baseline * 3 * 8) / 1000) + 4}s`,
            name: 'slow',
          },
        ]),
        (e, at) => {
          if (e.type === 'fault-removed') removedAt = at;
          if (e.type !== 'fault-applied') return;
          const tag = localAt(e.fault.location).tag!;
          measured = (async () => {
            busy = (
              await admin.query(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%orders%'",
                [tag],
              )
            ).rows[0].n as number;
            during = [await time(), await time(), await time()];
            return Date.now();
          })();
        },
      );
      assert.ok(measured, 'the fault was applied');
      assert.ok((await measured) <= removedAt, 'measured while the fault held');
      assert.equal(busy, 6, 'six tagged sessions were busy with the table');
      console.log(
        `# pg-slow-queries: ${baseline.toFixed(0)} ms before, ${during.map((d) => d.toFixed(0)).join(', ')} ms under 6 sessions`,
      );
      assert.ok(
        median(during) > baseline * 1.5,
        `the query took ${median(during).toFixed(0)} ms under the fault, ${baseline.toFixed(0)} ms before`,
      );
      assert.ok(
        (journal.faultline.faults[0]!.touched?.connections ?? 0) >= 1,
        'the application session is counted',
      );
      await assertGone(journal, 'slow');
      await app.end();
    },
  );

  it(
    'pg-slow-queries (pg_sleep): sessions sleep in the server until removal, then are gone',
    { timeout: 60_000 },
    async () => {
      let sleeping = 0;
      const journal = await run(
        experiment([
          { fault: 'pg-slow-queries', target: 'db', sessions: 3, duration: '2s', name: 'sleep' },
        ]),
        (e) => {
          if (e.type !== 'fault-applied') return;
          void admin
            .query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep(%'",
              [localAt(e.fault.location).tag],
            )
            .then((r) => (sleeping = r.rows[0].n as number));
        },
      );
      await waitFor('the count', async () => sleeping > 0, {
        timeoutMs: 5_000,
        ignoreErrors: true,
      });
      assert.equal(sleeping, 3);
      await assertGone(journal, 'sleep');
    },
  );

  it(
    "pg-slow-queries (statement): a statement of the user's runs in a loop; a bad one fails the fault with the server's message and leaves nothing",
    { timeout: 60_000 },
    async () => {
      let looping = 0;
      const journal = await run(
        experiment([
          {
            fault: 'pg-slow-queries',
            target: 'db',
            sessions: 2,
            statement: 'SELECT count(*) FROM orders o1 JOIN orders o2 USING (id)',
            duration: '2s',
            name: 'loop',
          },
        ]),
        (e) => {
          if (e.type !== 'fault-applied') return;
          const tag = localAt(e.fault.location).tag!;
          void waitFor(
            'the statement',
            async () =>
              (looping = (
                await admin.query(
                  "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%JOIN orders o2%'",
                  [tag],
                )
              ).rows[0].n as number) === 2,
            { timeoutMs: 5_000, ignoreErrors: true },
          ).catch(() => undefined); // asserted below
        },
      );
      assert.equal(looping, 2, 'both sessions ran the statement');
      await assertGone(journal, 'loop');
      const bad = await run(
        experiment([
          {
            fault: 'pg-slow-queries',
            target: 'db',
            sessions: 2,
            statement: 'SELEC 1',
            duration: '2s',
            name: 'bad',
          },
        ]),
      );
      const fault = bad.faultline.faults[0]!;
      assert.equal(fault.state, 'failed');
      assert.match(fault.error ?? '', /the statement failed: syntax error at or near "SELEC"/);
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.equal(await tagged(localAt(fault.location).tag!), 0);
    },
  );

  it(
    "pg-terminate: the application's session is terminated (its client gets an error), others and faultline's own are not",
    { timeout: 60_000 },
    async () => {
      const victim = await server.client({
        user: 'app',
        database: 'shop',
        application: 'shop-api',
      });
      const bystander = await server.client({
        user: 'app',
        database: 'postgres',
        application: 'shop-api',
      });
      const own = await server.client({
        user: 'app',
        database: 'shop',
        application: 'fl-someone-else',
      });
      const victimPid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0]
        .pid as number;
      const journal = await run(
        experiment([
          {
            fault: 'pg-terminate',
            target: 'db',
            match: { application: 'shop-*', database: 'shop' },
            duration: '1s',
            name: 'drop',
          },
        ]),
      );
      await assert.rejects(
        victim.query('SELECT 1'),
        /terminat|Connection terminated|not queryable/i,
      );
      assert.equal(
        (await bystander.query('SELECT 1 AS one')).rows[0].one,
        1,
        'the session on another database lives',
      );
      assert.equal(
        (await own.query('SELECT 1 AS one')).rows[0].one,
        1,
        'a faultline-named session lives',
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.touched?.connections, 1);
      assert.deepEqual((localAt(fault.location).handle as { terminated: string[] }).terminated, [
        `${victimPid} app@127.0.0.1/shop shop-api`,
      ]);
      assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
      await assertGone(journal, 'drop');
    },
  );

  it(
    'pg-terminate every: a reconnecting application is dropped again and again, and left alone after removal',
    { timeout: 60_000 },
    async () => {
      let drops = 0;
      let stop = false;
      let current: pg.Client | undefined;
      const worker = (async () => {
        while (!stop) {
          try {
            current = await server.client({
              user: 'app',
              database: 'shop',
              application: 'shop-worker',
            });
            while (!stop) await current.query('SELECT pg_sleep(0.05)');
          } catch {
            if (!stop) drops++;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await waitFor('the worker', async () => current !== undefined, {
        timeoutMs: 5_000,
        ignoreErrors: true,
      });
      const journal = await run(
        experiment([
          {
            fault: 'pg-terminate',
            target: 'db',
            match: { application: 'shop-worker' },
            every: '300ms',
            duration: '2s',
            name: 'drop-often',
          },
        ]),
      );
      const fault = journal.faultline.faults[0]!;
      assert.ok(drops >= 3, `dropped ${drops} times`);
      assert.equal(
        fault.touched?.connections,
        (localAt(fault.location).handle as { terminated: string[] }).terminated.length,
      );
      const afterRun = drops;
      await new Promise((r) => setTimeout(r, 1_000)); // three intervals: a termination would have come
      assert.equal(drops, afterRun, 'no termination after removal');
      stop = true;
      await worker;
      await current?.end().catch(() => undefined);
    },
  );

  it(
    'a SIGKILLed agent: its sessions end with it, even those busy in pg_sleep (the server notices the dead client)',
    { timeout: 60_000 },
    async () => {
      let killedAt = 0;
      let endedAt = 0;
      let watching: Promise<void> | undefined;
      const stop = new AbortController();
      const journal = await run(
        experiment([
          {
            fault: 'pg-slow-queries',
            target: 'db',
            sessions: 3,
            duration: '30s',
            name: 'orphaned',
          },
        ]),
        (e) => {
          if (e.type !== 'fault-applied') return;
          const tag = localAt(e.fault.location).tag!;
          const agent = (localAt(e.fault.location).handle as { agent: number }).agent;
          watching = (async () => {
            assert.equal(await tagged(tag), 3);
            process.kill(agent, 'SIGKILL');
            killedAt = Date.now();
            await waitFor(
              'the sessions of the killed agent to end',
              async () => (await tagged(tag)) === 0,
              { timeoutMs: 10_000, ignoreErrors: true },
            );
            endedAt = Date.now();
          })().finally(() => stop.abort(new Error('checked')));
        },
        stop.signal,
      );
      await watching;
      assert.ok(
        endedAt - killedAt < 5_000,
        `the sessions ended ${endedAt - killedAt} ms after the agent died, long before the 30 s lease`,
      );
      assert.equal(
        journal.faultline.faults[0]!.state,
        'removed',
        journal.faultline.faults[0]!.error,
      );
      assert.deepEqual(journal.faultline.verification, [{ fault: 'orphaned', gone: true }]);
    },
  );

  it(
    'a password in the URL is never printed in a message (the journal keeps the URL: recover needs it)',
    { timeout: 60_000 },
    async () => {
      const port = server.port + 1; // nothing listens there
      const doc = experiment([{ fault: 'pg-lock', target: 'db', table: 'orders', duration: '2s' }]);
      (doc['targets'] as Record<string, { url: string }>)['db']!.url =
        `postgres://postgres:s3cret-pw@127.0.0.1:${port}/shop`;
      const journal = await run(doc);
      assert.match(
        journal.faultline.reason ?? '',
        /cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/,
      );
      assert.doesNotMatch(journal.faultline.reason ?? '', /s3cret-pw/);
    },
  );

  it('bad input: located load-time errors, all in one pass', () => {
    const doc = experiment([
      { fault: 'pg-pool-exhaustion', target: 'db', duration: '5s' },
      { fault: 'pg-pool-exhaustion', target: 'db', connections: 3, leave: 1, duration: '5s' },
      { fault: 'pg-terminate', target: 'db', match: {}, duration: '5s' },
      { fault: 'pg-terminate', target: 'db', match: { address: 'localhost' }, duration: '5s' },
      {
        fault: 'pg-slow-queries',
        target: 'db',
        table: 'orders',
        statement: 'SELECT 1',
        duration: '5s',
      },
    ]);
    (doc['targets'] as Record<string, unknown>)['other'] = {
      type: 'postgres',
      url: 'mysql://root@127.0.0.1/x',
    };
    let error: unknown;
    try {
      parseExperiment(stringify(doc), 'bad.yaml');
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ValidationError, String(error));
    const found = (path: string, message: RegExp): void => {
      const issue = error.issues.find((i) => i.path === path && message.test(i.message));
      assert.ok(issue, `${path} ${message}: ${JSON.stringify(error.issues)}`);
      assert.ok(
        issue.hint && issue.line !== undefined,
        `located with a hint: ${JSON.stringify(issue)}`,
      );
    };
    found('method[0]', /needs connections or leave/);
    found('method[1]', /connections or leave, not both/);
    found('method[2].match', /would terminate every session/);
    found('method[3].match.address', /not an IP address/);
    found('method[4].statement', /table or statement, not both/);
    found('targets.other.url', /postgres:\/\//);
  });

  it('the example experiment validates', async () => {
    const text = await readFile(join(root, 'examples/faults/postgres-lock.yaml'), 'utf8');
    const experiment = parseExperiment(text, 'examples/faults/postgres-lock.yaml');
    assert.ok(experiment.method.some((s) => 'fault' in s && s.fault === 'pg-lock'));
    assert.ok(parse(text));
  });

  describe('a SIGKILLed runner (faultline run as a child process)', () => {
    // A 2 s lease grace (FAULTLINE_LEASE_GRACE_SECONDS) instead of 5: the lease test waits less.
    const start = (file: string, stateDir: string): RunnerChild =>
      startRunner(['run', file], { stateDir, cwd: dir, leaseGraceSeconds: 2 });
    async function lockFile(name: string, duration: string, wait: string): Promise<string> {
      const file = join(dir, `${name}.yaml`);
      const doc = experiment(
        [{ fault: 'pg-lock', target: 'db', table: 'orders', duration, name }, { wait }],
        {
          steadyState: {
            probes: [
              {
                name: 'orders-readable',
                sql: {
                  url: server.url('app', 'shop'),
                  query: 'SELECT count(*) FROM orders',
                  timeout: '60s',
                },
                expect: { atLeast: ROWS },
              },
            ],
          },
        },
      );
      await writeFile(file, stringify(doc));
      return file;
    }

    it(
      'pg-lock: the agent ends the lock at its deadline by itself',
      { timeout: 90_000 },
      async () => {
        const file = await lockFile('leased', '3s', '60s');
        const stateDir = join(dir, 'state-lease');
        const run = start(file, stateDir);
        await run.applied;
        await killRunner(run.child);
        const app = await server.client({ user: 'app', database: 'shop', application: 'shop-api' });
        const journal = JSON.parse(
          await readFile(join(stateDir, (await readdir(stateDir)).at(-1)!), 'utf8'),
        ) as Journal;
        const fault = journal.faultline.faults[0]!;
        const deadline = Date.parse(fault.expires_at!);
        const insertedAt = await app
          .query("INSERT INTO orders (note) VALUES ('after the dead runner')")
          .then(() => Date.now());
        assert.ok(
          insertedAt >= deadline - 1_500,
          `the dead runner's lock held the insert until its deadline (${deadline - insertedAt} ms early)`,
        );
        await waitFor(
          'the agent to end',
          async () => (await findAgents(localAt(fault.location).tag!)).length === 0,
          { timeoutMs: 10_000, ignoreErrors: true },
        );
        assert.equal(await tagged(localAt(fault.location).tag!), 0);
        await app.end();
      },
    );

    it('pg-lock: faultline recover removes the lock at once', { timeout: 90_000 }, async () => {
      const file = await lockFile('held', '60s', '60s');
      const stateDir = join(dir, 'state-recover');
      const run = start(file, stateDir);
      await run.applied;
      await killRunner(run.child);
      const app = await server.client({ user: 'app', database: 'shop', application: 'shop-api' });
      let insertedAt = 0;
      const insert = app
        .query("INSERT INTO orders (note) VALUES ('after recover')")
        .then(() => (insertedAt = Date.now()));
      await waitFor(
        'the insert to wait on the leftover lock',
        async () =>
          (
            await admin.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'shop-api' AND wait_event_type = 'Lock'",
            )
          ).rows[0].n === 1,
        { timeoutMs: 10_000, ignoreErrors: true },
      );
      const journal = JSON.parse(
        await readFile(join(stateDir, (await readdir(stateDir)).at(-1)!), 'utf8'),
      ) as Journal;
      const tag = localAt(journal.faultline.faults[0]!.location).tag!;
      assert.ok(
        JSON.stringify(journal).includes(adminUrl()),
        'the journal keeps the URL recover needs',
      );
      const startedRecover = Date.now();
      const { code, output: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
      assert.equal(code, 0, out);
      assert.match(out, /held.*removed/);
      await insert;
      assert.ok(
        insertedAt >= startedRecover && insertedAt - startedRecover < 20_000,
        'the insert went through when recover removed the lock, long before its 60 s deadline',
      );
      assert.deepEqual(await findAgents(tag), []);
      assert.equal(await tagged(tag), 0);
      await app.end();
    });
  });
});
