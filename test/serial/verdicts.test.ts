/**
 * Verdicts that never lie, the ones that rest on whether the load moved: each against a small
 * HTTP service on real PostgreSQL (a child process) with real load.
 *
 * 1. A `disable` fault on a proxy the service bypasses: inconclusive (4). The proxy counts only
 *    part of what an outage refuses, so the load decides, and it must not move.
 * 2. A bypass behind a Toxiproxy-compatible server without faultline's stats: inconclusive (4);
 *    the same server with the service going through it: the load shows the fault, held.
 * 5. A CPU hog while the system recovers, every fault gone: not residue.
 *
 * Serial (test/serial/): a load shift is judged against the baseline, which other files running
 * beside would move, and test 5 loads both cores. The verdicts that rest on counts, toxics, exits
 * and stated effects (3, 4, 6, 7, 8) are in test/integration/verdicts-counted.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/services.js';
import {
  load,
  PG,
  pgProxyTarget,
  pgUrl,
  startPayments,
  startPgProxyServer,
  verdictSuite,
} from '../helpers/verdict-service.js';

describe('verdicts that never lie: the load decides (a service on real PostgreSQL, real load)', () => {
  const { children, run } = verdictSuite();

  it(
    '1. a disable fault on a proxy the service bypasses is inconclusive (4), never held',
    { timeout: 60_000 },
    async (t) => {
      const url = await startPayments(pgUrl(PG.port), children); // straight to PostgreSQL
      const journal = await run(t, {
        targets: {
          db: pgProxyTarget(await freePort()),
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
      const stack = await startPgProxyServer();
      const { proxy, stripped: server } = stack;
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
        await stack.close();
      }
    },
  );

  it(
    '5. a CPU hog while the system recovers, every fault gone, is not residue',
    { timeout: 90_000 },
    async (t) => {
      const listen = await freePort();
      const url = await startPayments(pgUrl(listen), children);
      const hog = `${JSON.stringify(process.execPath)} -e "const end = Date.now() + 6000; while (Date.now() < end);"`;
      const journal = await run(t, {
        targets: {
          db: pgProxyTarget(listen),
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
});
