/**
 * Verdicts that never lie: one test per way a chaos run can say "held" without proof, each
 * against a small HTTP service on real PostgreSQL (a child process) with real load.
 *
 * 1. A `disable` fault on a proxy the service bypasses: inconclusive (4).
 * 2. A bypass behind a Toxiproxy-compatible server without faultline's stats: inconclusive (4);
 *    the same server with the service going through it: the load shows the fault, held.
 * 3. A bypassing service whose probe goes through the proxy: faultline's own connections are
 *    not the service's: inconclusive (4).
 * 4. A rollback that leaves a toxic behind: residue (5).
 * 5. A CPU hog while the system recovers, every fault gone: not residue.
 * 6. A service that crashes mid-run is named (a warning) and, gone for good, is residue (5).
 * 7. The effect an experiment states for a fault (`shows:`) decides its efficacy: seen behind a
 *    server that cannot count, held; never seen although the proxy counted connections, 4.
 * 8. A `service` target that exits by itself is named by its exit (code, time, last words), and
 *    still down after the rollbacks it is residue (5).
 *
 * Serial (test/serial/): the verdicts rest on load measurements, and test 5 loads both cores.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { startControlServer } from '../../src/engines/proxy/api/server.js';
import type { Journal } from '../../src/journal/journal.js';
import { freePort } from '../helpers/services.js';
import { runExperimentDoc } from '../helpers/run-experiment.js';
import { watchOutput } from '../helpers/wait-for.js';

const PG = { host: '127.0.0.1', port: 5432 };
const pgUrl = (port: number): string => `postgres://postgres@127.0.0.1:${port}/test`;
const SERVICE = new URL('../helpers/pg-http-service.ts', import.meta.url).pathname;

/** Starts the service on DATABASE_URL and resolves with its base URL. */
async function startPayments(databaseUrl: string, children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVICE], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const [, port] = await watchOutput(child.stdout, child.stderr).waitFor(
    /listening (\d+)/,
    'the payment service to listen',
    { child },
  );
  return `http://127.0.0.1:${port}`;
}

/**
 * A Toxiproxy-compatible server without faultline's extensions: a relay to a faultline control
 * server that drops every `stats` field from its answers, as Toxiproxy 2.12 has none.
 */
async function withoutStats(upstream: string): Promise<Server> {
  const target = new URL(upstream);
  const relay = createServer((req, res) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          let body = Buffer.concat(chunks).toString('utf8');
          try {
            body = JSON.stringify(JSON.parse(body), (key, value: unknown) =>
              key === 'stats' ? undefined : value,
            );
          } catch {
            // not JSON: as it is
          }
          const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(out);
  });
  relay.listen(0, '127.0.0.1');
  await new Promise((resolve) => relay.once('listening', resolve));
  return relay;
}

const load = (url: string): Record<string, unknown> => ({
  url: `${url}/pay`,
  rate: '50/s',
  baseline: '1500ms',
  recovery: '2s',
  timeout: '3s',
});

describe('verdicts that never lie (a service on real PostgreSQL, real load)', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  let runs = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-verdicts-'));
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  /** Runs DOC and reports its verdict line (as `faultline run` prints it) in the test's output. */
  const run = async (t: TestContext, doc: Record<string, unknown>): Promise<Journal> => {
    const file = `verdict-${++runs}.yaml`;
    const journal = await runExperimentDoc(
      { title: file, safety: { maxDuration: '2m' }, ...doc },
      { file, journalPath: join(dir, `${runs}.json`) },
    );
    const f = journal.faultline;
    t.diagnostic(`outcome: ${f.outcome} (exit ${f.exit_code}) — ${f.reason ?? ''}`);
    return journal;
  };

  it(
    '1. a disable fault on a proxy the service bypasses is inconclusive (4), never held',
    { timeout: 60_000 },
    async (t) => {
      const url = await startPayments(pgUrl(PG.port), children); // straight to PostgreSQL
      const journal = await run(t, {
        targets: {
          db: {
            type: 'proxy',
            listen: `127.0.0.1:${await freePort()}`,
            upstream: `${PG.host}:${PG.port}`,
          },
        },
        steadyState: { load: load(url), thresholds: ['error_rate < 5%'] },
        method: [{ fault: 'disable', target: 'db', duration: '1500ms' }],
      });
      assert.equal(journal.faultline.outcome, 'inconclusive', journal.faultline.reason);
      assert.equal(journal.faultline.exit_code, 4);
      assert.equal(
        journal.faultline.faults[0]!.efficacy?.by,
        'none',
        JSON.stringify(journal.faultline.faults[0]),
      );
      assert.match(journal.faultline.reason ?? '', /not tested/);
    },
  );

  it(
    '2. a bypass behind a Toxiproxy-compatible server without stats is inconclusive (4); going through it, the load shows the fault',
    { timeout: 90_000 },
    async (t) => {
      const collection = new ProxyCollection();
      const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
      const toxiproxy = await withoutStats(api.url);
      const proxy = await collection.create({ name: 'pg', upstream: `${PG.host}:${PG.port}` });
      const server = `http://127.0.0.1:${(toxiproxy.address() as AddressInfo).port}`;
      try {
        const bypassing = await startPayments(pgUrl(PG.port), children);
        const doc = (url: string): Record<string, unknown> => ({
          targets: { db: { type: 'remote-proxy', url: server, proxy: 'pg' } },
          steadyState: { load: load(url), thresholds: ['p99 < 2s'] },
          method: [{ fault: 'latency', target: 'db', delay: '200ms', duration: '2s' }],
        });
        const bypassed = await run(t, doc(bypassing));
        assert.equal(bypassed.faultline.faults[0]!.touched, undefined, 'the server has no stats');
        assert.equal(bypassed.faultline.outcome, 'inconclusive', bypassed.faultline.reason);
        assert.equal(bypassed.faultline.exit_code, 4);
        assert.equal(bypassed.faultline.faults[0]!.efficacy?.by, 'none');

        const through = await startPayments(pgUrl(proxy.port), children);
        const reached = await run(t, doc(through));
        assert.equal(
          reached.faultline.faults[0]!.efficacy?.by,
          'load-shift',
          JSON.stringify(reached.faultline.faults[0]),
        );
        assert.match(reached.faultline.faults[0]!.efficacy?.detail ?? '', /latency shift \+\d/);
        assert.equal(reached.faultline.outcome, 'held', reached.faultline.reason);
      } finally {
        toxiproxy.close();
        await api.close();
        await collection.close();
      }
    },
  );

  it(
    "3. a bypassing service whose probe goes through the proxy is inconclusive (4): faultline's own connections are not the service's",
    { timeout: 60_000 },
    async (t) => {
      const url = await startPayments(pgUrl(PG.port), children); // bypass
      const listen = await freePort();
      const journal = await run(t, {
        targets: {
          db: { type: 'proxy', listen: `127.0.0.1:${listen}`, upstream: `${PG.host}:${PG.port}` },
        },
        runtime: { hypothesisFrequency: '300ms' },
        steadyState: {
          probes: [
            { name: 'payments answer', http: { url: `${url}/pay` }, expect: { status: 200 } },
            {
              name: 'reconciliation',
              sql: { url: pgUrl(listen), query: 'SELECT 0 AS missing' },
              expect: { equals: 0 },
            },
          ],
        },
        method: [{ fault: 'latency', target: 'db', delay: '50ms', duration: '1500ms' }],
      });
      const fault = journal.faultline.faults[0]!;
      assert.ok(
        (fault.touched?.connections ?? 0) > 0,
        `the probe's connections went through the fault: ${JSON.stringify(fault.touched)}`,
      );
      assert.equal(
        fault.touched?.own?.connections,
        fault.touched?.connections,
        "every one of them was faultline's own",
      );
      assert.equal(journal.faultline.outcome, 'inconclusive', journal.faultline.reason);
      assert.equal(journal.faultline.exit_code, 4);
      assert.match(journal.faultline.reason ?? '', /touched no traffic of the system under test/);
    },
  );

  it('4. a rollback that leaves a toxic behind is residue (5)', { timeout: 60_000 }, async (t) => {
    const collection = new ProxyCollection();
    const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
    const proxy = await collection.create({ name: 'pg', upstream: `${PG.host}:${PG.port}` });
    try {
      const url = await startPayments(pgUrl(proxy.port), children);
      const journal = await run(t, {
        targets: { db: { type: 'remote-proxy', url: api.url, proxy: 'pg' } },
        steadyState: { load: load(url), thresholds: ['p99 < 2s'] },
        method: [{ fault: 'latency', target: 'db', delay: '100ms', duration: '1s' }],
        rollbacks: [
          {
            name: 'a rollback that adds instead of removing',
            http: {
              url: `${api.url}/proxies/pg/toxics`,
              method: 'POST',
              body: JSON.stringify({
                name: 'left-behind',
                type: 'latency',
                attributes: { latency: 300 },
                expires_in: 60,
              }),
            },
          },
        ],
      });
      assert.equal(journal.faultline.outcome, 'residue', journal.faultline.reason);
      assert.equal(journal.faultline.exit_code, 5);
      const checks = journal.faultline.after_rollbacks?.checks ?? [];
      assert.ok(
        checks.some((c) => c.residue && /toxic left-behind/.test(c.detail)),
        JSON.stringify(checks),
      );
      assert.match(journal.faultline.reason ?? '', /left-behind/);
      assert.equal(
        proxy.toxics.length,
        1,
        'faultline reports the toxic it did not add; it does not remove it',
      );
    } finally {
      await api.close();
      await collection.close();
    }
  });

  it(
    '5. a CPU hog while the system recovers, every fault gone, is not residue',
    { timeout: 90_000 },
    async (t) => {
      const listen = await freePort();
      const url = await startPayments(pgUrl(listen), children);
      const hog = `${JSON.stringify(process.execPath)} -e "const end = Date.now() + 6000; while (Date.now() < end);"`;
      const journal = await run(t, {
        targets: {
          db: { type: 'proxy', listen: `127.0.0.1:${listen}`, upstream: `${PG.host}:${PG.port}` },
        },
        steadyState: { load: load(url), thresholds: ['p99 < 2s'] },
        method: [
          { fault: 'latency', target: 'db', delay: '300ms', duration: '1500ms' },
          // Two busy loops, one per core, that outlast the method: the host is loaded while the
          // system recovers and while faultline checks it after the rollbacks.
          {
            action: {
              name: 'load the host',
              command: { run: ['sh', '-c', `${hog} >/dev/null 2>&1 & ${hog} >/dev/null 2>&1 &`] },
            },
          },
        ],
      });
      const check = journal.faultline.after_rollbacks?.checks.find(
        (c) => c.what === 'load against the baseline',
      );
      assert.ok(check, JSON.stringify(journal.faultline.after_rollbacks));
      assert.equal(check.residue, false, check.detail);
      assert.equal(journal.faultline.faults[0]!.efficacy?.by, 'counted');
      assert.notEqual(journal.faultline.outcome, 'residue', journal.faultline.reason);
      assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    },
  );

  it(
    '6. a service that crashes mid-run is named, and gone for good after the rollbacks it is residue (5)',
    { timeout: 60_000 },
    async (t) => {
      const listen = await freePort();
      const url = await startPayments(pgUrl(listen), children);
      const pid = children.at(-1)!.pid!;
      const journal = await run(t, {
        targets: {
          db: { type: 'proxy', listen: `127.0.0.1:${listen}`, upstream: `${PG.host}:${PG.port}` },
        },
        steadyState: { load: load(url), thresholds: ['p99 < 10s'] },
        method: [
          { fault: 'latency', target: 'db', delay: '50ms', duration: '2500ms' },
          { wait: '300ms' },
          {
            action: { name: 'the service crashes', command: { run: ['kill', '-9', String(pid)] } },
          },
        ],
      });
      assert.ok(
        (journal.faultline.warnings ?? []).some((w) =>
          /gave no HTTP answer at all for \d+ s during the method/.test(w),
        ),
        JSON.stringify(journal.faultline.warnings),
      );
      assert.equal(journal.faultline.outcome, 'residue', journal.faultline.reason);
      assert.equal(journal.faultline.exit_code, 5);
      assert.match(journal.faultline.reason ?? '', /crashed and did not come back/);
    },
  );

  it(
    '7. a stated effect (shows:) proves a fault nothing counts, and one it never sees is inconclusive (4) whatever was counted',
    { timeout: 90_000 },
    async (t) => {
      const collection = new ProxyCollection();
      const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
      const toxiproxy = await withoutStats(api.url);
      const proxy = await collection.create({ name: 'pg', upstream: `${PG.host}:${PG.port}` });
      const server = `http://127.0.0.1:${(toxiproxy.address() as AddressInfo).port}`;
      try {
        const url = await startPayments(pgUrl(proxy.port), children); // through the proxy
        // No load: nothing but the stated effect can show what the fault did.
        const doc = (delay: string): Record<string, unknown> => ({
          targets: { db: { type: 'remote-proxy', url: server, proxy: 'pg' } },
          steadyState: {
            probes: [
              {
                name: 'payments answer',
                mode: 'Edge',
                http: { url: `${url}/pay` },
                expect: { status: 200 },
              },
            ],
          },
          method: [
            {
              fault: 'latency',
              target: 'db',
              delay,
              duration: '3s',
              // The service's own query timeout is 2 s: a slow database shows as a 503.
              shows: {
                name: 'payments fail fast',
                http: { url: `${url}/pay`, timeout: '5s' },
                expect: { status: 503 },
              },
            },
          ],
        });
        const bit = await run(t, doc('2500ms'));
        const fault = bit.faultline.faults[0]!;
        assert.equal(fault.touched, undefined, 'the server has no stats');
        assert.equal(fault.efficacy?.by, 'stated-effect', JSON.stringify(fault));
        assert.match(fault.efficacy?.detail ?? '', /"payments fail fast" was seen \d/);
        assert.equal(bit.faultline.outcome, 'held', bit.faultline.reason);

        // The same, on faultline's own proxy (it counts), with a delay the service absorbs.
        const listen = await freePort();
        const counted = await startPayments(pgUrl(listen), children);
        const mild = await run(t, {
          ...doc('20ms'),
          targets: {
            db: { type: 'proxy', listen: `127.0.0.1:${listen}`, upstream: `${PG.host}:${PG.port}` },
          },
          method: [
            {
              fault: 'latency',
              target: 'db',
              delay: '20ms',
              duration: '1500ms',
              shows: {
                name: 'payments fail fast',
                http: { url: `${counted}/pay`, timeout: '5s' },
                expect: { status: 503 },
              },
            },
          ],
        });
        const missed = mild.faultline.faults[0]!;
        assert.ok((missed.touched?.connections ?? 0) > 0, JSON.stringify(missed.touched));
        assert.equal(missed.efficacy?.by, 'none', JSON.stringify(missed));
        assert.match(missed.efficacy?.detail ?? '', /never seen .*status 200/);
        assert.equal(mild.faultline.outcome, 'inconclusive', mild.faultline.reason);
        assert.equal(mild.faultline.exit_code, 4);
      } finally {
        toxiproxy.close();
        await api.close();
        await collection.close();
      }
    },
  );

  it(
    '8. a service target that crashes is named by its exit, and still down after the rollbacks it is residue (5)',
    { timeout: 60_000 },
    async (t) => {
      const port = await freePort();
      const listen = await freePort();
      const service = `http://127.0.0.1:${port}`;
      const journal = await run(t, {
        targets: {
          db: { type: 'proxy', listen: `127.0.0.1:${listen}`, upstream: `${PG.host}:${PG.port}` },
          payments: {
            type: 'service',
            command: [process.execPath, '--import', 'tsx', SERVICE],
            env: { DATABASE_URL: pgUrl(listen), PORT: String(port) },
            ready: { port },
          },
        },
        steadyState: { load: load(service), thresholds: ['p99 < 10s'] },
        method: [
          { fault: 'latency', target: 'db', delay: '50ms', duration: '1500ms' },
          { wait: '300ms' },
          {
            action: {
              name: 'the service crashes',
              // Its answer is the crash itself: a request that gets no answer, not a failed action.
              command: {
                run: [
                  process.execPath,
                  '-e',
                  `fetch(${JSON.stringify(`${service}/crash`)}).catch(() => undefined)`,
                ],
              },
            },
          },
        ],
      });
      const warnings = journal.faultline.warnings ?? [];
      assert.ok(
        warnings.some((w) =>
          /^service target "payments" exited with code 3 at .*the service under test crashed/.test(
            w,
          ),
        ),
        JSON.stringify(warnings),
      );
      const down = journal.faultline.after_rollbacks?.checks.find(
        (c) => c.what === 'target payments',
      );
      assert.equal(down?.residue, true, JSON.stringify(journal.faultline.after_rollbacks));
      assert.match(down.detail, /not running: it exited with code 3/);
      assert.equal(journal.faultline.outcome, 'residue', journal.faultline.reason);
      assert.equal(journal.faultline.exit_code, 5);
    },
  );
});
