/**
 * Verdicts that never lie, the ones that rest on counts, toxics, exits and stated effects: each
 * against a small HTTP service on real PostgreSQL (a child process), most with real load.
 *
 * 3. A bypassing service whose probe goes through the proxy: faultline's own connections are
 *    not the service's: inconclusive (4).
 * 4. A rollback that leaves a toxic behind: residue (5).
 * 6. A service that crashes mid-run is named (a warning) and, gone for good, is residue (5).
 * 7. The effect an experiment states for a fault (`shows:`) decides its efficacy: seen behind a
 *    server that cannot count, held; never seen although the proxy counted connections, 4.
 * 8. A `service` target that exits by itself is named by its exit (code, time, last words), and
 *    still down after the rollbacks it is residue (5).
 *
 * No other load can change these verdicts (a count of connections, a toxic left behind, a crash,
 * a stated effect), so they run in the integration group, and at the same time: each has a
 * service, proxy and ports of its own (measured: 31 s one after the other, 10 s together). The
 * verdicts that rest on whether the load moved (1, 2, 5) are in test/serial/verdicts.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/services.js';
import {
  load,
  PG,
  pgProxyTarget,
  pgUrl,
  pids,
  SERVICE,
  startPayments,
  startPgProxyServer,
  verdictSuite,
} from '../helpers/verdict-service.js';

describe(
  'verdicts that never lie: counts, toxics, exits and stated effects (a service on real PostgreSQL)',
  { concurrency: true },
  () => {
    const { children, run } = verdictSuite();

    it(
      "3. a bypassing service whose probe goes through the proxy is inconclusive (4): faultline's own connections are not the service's",
      { timeout: 60_000 },
      async (t) => {
        const url = await startPayments(pgUrl(PG.port), children); // bypass
        const listen = await freePort();
        const journal = await run(t, {
          targets: {
            db: pgProxyTarget(listen),
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

    it(
      '4. a rollback that leaves a toxic behind is residue (5)',
      { timeout: 60_000 },
      async (t) => {
        const stack = await startPgProxyServer();
        const { proxy } = stack;
        try {
          const url = await startPayments(pgUrl(proxy.port), children);
          const journal = await run(t, {
            targets: { db: { type: 'remote-proxy', url: stack.api, proxy: 'pg' } },
            steadyState: { load: load(url), thresholds: ['p99 < 2s'] },
            method: [{ fault: 'latency', target: 'db', delay: '100ms', duration: '1s' }],
            rollbacks: [
              {
                name: 'a rollback that adds instead of removing',
                http: {
                  url: `${stack.api}/proxies/pg/toxics`,
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
          await stack.close();
        }
      },
    );

    it(
      '6. a service that crashes mid-run is named, and gone for good after the rollbacks it is residue (5)',
      { timeout: 60_000 },
      async (t) => {
        const listen = await freePort();
        const url = await startPayments(pgUrl(listen), children);
        const pid = pids.get(url)!;
        const journal = await run(t, {
          targets: {
            db: pgProxyTarget(listen),
          },
          steadyState: { load: load(url), thresholds: ['p99 < 10s'] },
          method: [
            { fault: 'latency', target: 'db', delay: '50ms', duration: '2500ms' },
            { wait: '300ms' },
            {
              action: {
                name: 'the service crashes',
                command: { run: ['kill', '-9', String(pid)] },
              },
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
        const stack = await startPgProxyServer();
        const { proxy, stripped: server } = stack;
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
              db: pgProxyTarget(listen),
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
          await stack.close();
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
            db: pgProxyTarget(listen),
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
  },
);
