// Steady state under load: the runner keeps open-model load on a real service whose dependency
// sits behind the run's proxy, judges thresholds over each phase and over sliding windows, and
// a stop condition removes every fault within 250 ms of its breach becoming measurable.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseExperiment } from '../../src/run-plan/read-experiment.js';
import { planExperiment } from '../../src/run-plan/from-experiment.js';
import type { Journal } from '../../src/journal/journal.js';
import { runExperiment } from '../../src/runner/runner.js';
import { freePort, startEcho, startService } from '../helpers/services.js';

describe('steady state under load', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let service: Awaited<ReturnType<typeof startService>>;
  let proxyPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-load-run-'));
    echo = await startEcho();
    proxyPort = await freePort();
    service = await startService(proxyPort, 2_000);
  });
  after(async () => {
    await service.close();
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  async function run(overrides: Record<string, unknown>): Promise<Journal> {
    const doc = {
      title: 'health under load',
      targets: { db: { type: 'proxy', listen: `127.0.0.1:${proxyPort}`, upstream: echo.address } },
      steadyState: {
        load: {
          url: `${service.url}/health`,
          rate: '100/s',
          baseline: '1s',
          recovery: '3s',
          timeout: '3s',
        },
        thresholds: ['p99 < 400ms', 'error_rate < 1%'],
      },
      method: [{ fault: 'latency', target: 'db', delay: '50ms', duration: '1s' }],
      runtime: { hypothesisFrequency: '250ms' },
      safety: { maxDuration: '30s' },
      ...overrides,
    };
    const file = `load-${++n}.yaml`;
    const plan = planExperiment(parseExperiment(stringify(doc), file), { file, env: {} });
    return runExperiment(plan, { journalPath: join(dir, `${n}.json`) });
  }

  it(
    'holds: thresholds met before, during and after; the load and its series are in the journal',
    { timeout: 30_000 },
    async () => {
      const journal = await run({});
      assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
      const names = journal.steady_states.before?.probes.map((p) => p.name);
      assert.deepEqual(names, ['load: p99 < 400ms', 'load: error_rate < 1%']);
      assert.ok(journal.steady_states.during.length >= 2);
      const load = journal.faultline.load!;
      assert.ok(load.series.length >= 3, 'a per-second series');
      assert.ok(
        (load.phases.method as { p50: number }).p50 >= 50,
        'the method phase shows the 50 ms latency',
      );
      assert.ok((load.phases.before as { p50: number }).p50 < 50, 'the baseline does not');
      assert.ok(journal.faultline.faults[0]!.touched!.connections > 10);
      // The rank test sees the 50 ms fault as a real shift, with an interval around ~50 ms.
      const shift = load.phases.shift!;
      assert.equal(shift.significant, true, JSON.stringify(shift));
      assert.ok(shift.shift_ms >= 40 && shift.shift_ms <= 80, `shift ${shift.shift_ms} ms`);
      assert.ok(
        shift.ci_ms[0] > 0 && shift.ci_ms[0] <= shift.shift_ms && shift.shift_ms <= shift.ci_ms[1],
      );
      assert.ok(shift.superiority > 0.9);
    },
  );

  it('deviates when a threshold breaks while the fault is on', { timeout: 30_000 }, async () => {
    const journal = await run({
      method: [{ fault: 'latency', target: 'db', delay: '600ms', duration: '1500ms' }],
      steadyState: {
        load: {
          url: `${service.url}/health`,
          rate: '100/s',
          baseline: '1s',
          recovery: '5s',
          timeout: '3s',
        },
        thresholds: ['p99 < 400ms', 'error_rate < 1%'],
      },
    });
    assert.equal(journal.faultline.outcome, 'deviated');
    assert.equal(journal.faultline.exit_code, 1);
    const breaches = journal.steady_states.during
      .flatMap((s) => s.probes)
      .filter((p) => p.tolerance_met === false);
    assert.ok(
      breaches.some((p) => p.name === 'load: p99 < 400ms'),
      JSON.stringify(breaches.map((b) => b.reason)),
    );
    assert.equal(journal.steady_states.after?.steady_state_met, true, 'recovered after the fault');
    const recovered = (journal.faultline.load!.phases.after as { recovered_after_ms: number })
      .recovered_after_ms;
    assert.ok(recovered > 0 && recovered < 5000, `time to recovery ${recovered} ms`);
  });

  it(
    'a stop condition removes every fault within 250 ms and aborts the run (exit 3)',
    { timeout: 30_000 },
    async () => {
      const journal = await run({
        method: [{ fault: 'reset-peer', target: 'db', duration: '20s' }, { wait: '20s' }],
        safety: { maxDuration: '60s', abortWhen: ['error_rate > 20% over 500ms'] },
      });
      assert.equal(journal.status, 'aborted');
      assert.equal(journal.faultline.exit_code, 3);
      const stop = journal.faultline.stop!;
      assert.equal(stop.condition, 'error_rate > 20% over 500ms');
      assert.ok(stop.faults_removed_at, 'the faults were removed');
      assert.ok(
        stop.reaction_ms !== undefined && stop.reaction_ms <= 250,
        `reaction ${stop.reaction_ms} ms`,
      );
      assert.equal(journal.faultline.faults[0]?.state, 'removed');
      assert.ok((journal.duration ?? 99) < 10, 'stopped long before the method would have ended');
    },
  );

  it(
    'a stop condition on an outage (disable) ends aborted with the proxy back up, never residue',
    { timeout: 30_000 },
    async () => {
      // Regression: the stop condition and the clean-up both removed the outage at once; the second
      // re-enable failed with EADDRINUSE and the run reported residue although the proxy was back.
      const journal = await run({
        method: [{ fault: 'disable', target: 'db', duration: '20s' }],
        safety: { maxDuration: '60s', abortWhen: ['error_rate > 20% over 500ms'] },
      });
      assert.equal(journal.faultline.outcome, 'aborted', journal.faultline.reason);
      assert.equal(
        journal.faultline.faults[0]?.state,
        'removed',
        journal.faultline.faults[0]?.error,
      );
      assert.deepEqual(journal.faultline.verification, [{ fault: 'disable-1', gone: true }]);
    },
  );

  it(
    'a window in which nothing completed is judged by the oldest request still waiting',
    { timeout: 30_000 },
    async () => {
      // Every reply from the "database" is 1.5 s late: for a while no request completes at all. A
      // 1 s window with nothing completed must not pass a p99 < 400ms bound as "no data", and must
      // not fail a p99 < 5s bound that nothing has broken yet.
      const journal = await run({
        method: [{ fault: 'latency', target: 'db', delay: '1500ms', duration: '2s' }],
        steadyState: {
          load: {
            url: `${service.url}/health`,
            rate: '50/s',
            baseline: '1s',
            recovery: '5s',
            timeout: '4s',
          },
          thresholds: ['p99 < 400ms', 'p999 < 5s'],
        },
      });
      const during = journal.steady_states.during.flatMap((s) => s.probes);
      const waiting = during.filter((p) =>
        /oldest request has waited/.test(String((p.output as { value?: string } | null)?.value)),
      );
      assert.ok(
        waiting.length > 0,
        `some window had nothing completed: ${JSON.stringify(during.map((p) => p.reason ?? 'met'))}`,
      );
      for (const p of waiting) {
        if (p.name === 'load: p999 < 5s')
          assert.equal(p.tolerance_met, true, 'nothing has waited 5 s');
      }
      assert.ok(
        waiting.some((p) => p.name === 'load: p99 < 400ms' && p.tolerance_met === false),
        'a stalled window breaks the 400 ms bound',
      );
      assert.equal(journal.faultline.outcome, 'deviated');
    },
  );

  it(
    'traffic that bypasses the proxy makes the run inconclusive, never passed',
    { timeout: 30_000 },
    async () => {
      // This service reaches the "database" directly: the fault on the proxy touches nothing.
      const direct = await startService(Number(echo.address.split(':')[1]), 2_000);
      try {
        const journal = await run({
          steadyState: {
            load: { url: `${direct.url}/health`, rate: '100/s', baseline: '1s', recovery: '2s' },
            thresholds: ['p99 < 400ms'],
          },
        });
        assert.equal(journal.faultline.outcome, 'inconclusive');
        assert.equal(journal.faultline.exit_code, 4);
        assert.match(journal.faultline.reason ?? '', /touched no traffic/);
      } finally {
        await direct.close();
      }
    },
  );

  it(
    'residue: a system that does not come back to its baseline fails the run (exit 5)',
    { timeout: 30_000 },
    async () => {
      // A "database" that an action degrades for good: after the method its answers stay 50 ms
      // late, so the service never comes back to its baseline although every fault is gone.
      let degraded = false;
      const db = createServer((socket) => {
        socket.on('error', () => undefined);
        socket.on('data', (chunk) =>
          degraded ? setTimeout(() => socket.write(chunk), 50) : socket.write(chunk),
        );
      });
      db.listen(0, '127.0.0.1');
      await once(db, 'listening');
      const toggle = createHttpServer((_req, res) => {
        degraded = true;
        res.end('degraded');
      });
      toggle.listen(0, '127.0.0.1');
      await once(toggle, 'listening');
      const port = await freePort();
      const svc = await startService(port, 2_000);
      try {
        const journal = await run({
          targets: {
            db: {
              type: 'proxy',
              listen: `127.0.0.1:${port}`,
              upstream: `127.0.0.1:${(db.address() as AddressInfo).port}`,
            },
          },
          steadyState: {
            load: {
              url: `${svc.url}/health`,
              rate: '50/s',
              baseline: '1s',
              recovery: '2s',
              recoveryTolerance: '10%',
            },
            thresholds: ['error_rate < 50%'],
          },
          method: [
            { fault: 'latency', target: 'db', delay: '5ms', duration: '500ms' },
            {
              action: {
                name: 'degrade for good',
                http: {
                  url: `http://127.0.0.1:${(toggle.address() as AddressInfo).port}/`,
                  method: 'POST',
                },
              },
            },
          ],
        });
        // Not a deviation of the hypothesis (its thresholds hold): the system is not back to its
        // baseline after the rollbacks — residue, exit 5.
        assert.equal(journal.faultline.outcome, 'residue', journal.faultline.reason);
        assert.equal(journal.faultline.exit_code, 5);
        const check = journal.faultline.after_rollbacks?.checks.find(
          (c) => c.what === 'load against the baseline',
        );
        assert.ok(check?.residue, JSON.stringify(journal.faultline.after_rollbacks));
        assert.match(check.detail, /latency shift \+\d/);
        assert.match(journal.faultline.reason ?? '', /^residue: load against the baseline/);
        assert.equal(
          (journal.faultline.load!.phases.after as { recovered_after_ms: number | null })
            .recovered_after_ms,
          null,
        );
      } finally {
        await svc.close();
        db.close();
        toggle.close();
      }
    },
  );
});
