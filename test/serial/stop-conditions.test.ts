// Stop conditions on the system's own signals (`safety.stopWhen`), against real processes: a
// real Prometheus scraping a service whose error counter rises on demand, a real Alertmanager
// receiving an alert through its API, an HTTP health endpoint, a command. Each run holds a long
// fault on a proxy; when the signal breaches, every fault must be gone within 250 ms of the
// breach being detected (journal times), the run aborted (exit 3) and nothing left. Serial: the
// assertions are time bounds.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import type { Journal } from '../../src/journal/journal.js';
import { main } from '../../src/cli/main.js';
import {
  ALERTMANAGER,
  needBinary,
  PROMETHEUS,
  pushAlert,
  startAlertmanager,
  startCountingService,
  startPrometheus,
  type Daemon,
} from '../helpers/monitoring.js';
import { runExperimentDoc, type FaultApplied } from '../helpers/run-experiment.js';
import { freePort, startEcho, startRemoteProxyStack } from '../helpers/services.js';
import { waitFor } from '../helpers/wait-for.js';
import { prometheusQuery } from '../../src/probes/prometheus-query.js';

const BOUND_MS = 250;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let echo: Awaited<ReturnType<typeof startEcho>>;
let proxyPort: number;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-stop-'));
  echo = await startEcho();
  proxyPort = await freePort();
});
after(async () => {
  await echo.close();
  await rm(dir, { recursive: true, force: true });
});

/** One round trip through the proxy, so the fault touches traffic (and the run is not inconclusive). */
async function touchProxy(): Promise<void> {
  const socket = connect(proxyPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('ping');
  await once(socket, 'data');
  socket.destroy();
}

let runs = 0;
/**
 * Runs an experiment holding a 60 s latency fault on a proxy, with `stopWhen`; `during` runs
 * once the fault is applied (after one round trip through it). Returns the journal.
 */
async function run(
  stopWhen: unknown[],
  during?: (event: FaultApplied) => Promise<void>,
  durationS = 60,
): Promise<Journal> {
  const file = `stop-${++runs}.yaml`;
  return runExperimentDoc(
    {
      title: `stop condition ${runs}`,
      targets: { db: { type: 'proxy', listen: `127.0.0.1:${proxyPort}`, upstream: echo.address } },
      method: [{ fault: 'latency', target: 'db', delay: '20ms', duration: `${durationS}s` }],
      safety: { maxDuration: '2m', stopWhen },
    },
    {
      file,
      journalPath: join(dir, `${runs}.json`),
      during: during
        ? async (event) => {
            await touchProxy();
            await during(event);
          }
        : undefined,
    },
  );
}

/** Asserts the run was stopped by `name` in time with nothing left; returns the figures. */
async function assertStoppedInTime(
  t: TestContext,
  journal: Journal,
  name: string,
  kind: string,
): Promise<{ detected: number; removed: number }> {
  assert.equal(journal.faultline.outcome, 'aborted', journal.faultline.reason);
  assert.equal(journal.faultline.exit_code, 3);
  const stop = journal.faultline.stop;
  assert.ok(stop, 'the journal records the stop');
  assert.equal(stop.condition, name);
  assert.equal(stop.kind, kind);
  assert.ok(stop.detected_at && stop.faults_removed_at, JSON.stringify(stop));
  const detected = Date.parse(stop.detected_at);
  const removed = Date.parse(stop.faults_removed_at);
  assert.ok(
    removed - detected <= BOUND_MS,
    `every fault removed ${removed - detected} ms after the breach was detected`,
  );
  assert.ok(
    stop.reaction_ms !== undefined && stop.reaction_ms <= BOUND_MS,
    `reaction ${stop.reaction_ms} ms`,
  );
  const fault = journal.faultline.faults[0]!;
  assert.equal(fault.state, 'removed', fault.error);
  assert.ok(
    Date.parse(fault.removed_at!) <= removed,
    'the fault was removed by the stop, not later',
  );
  assert.deepEqual(journal.faultline.verification, [{ fault: fault.name, gone: true }]);
  assert.ok((journal.duration ?? 99) < 30, 'stopped long before the 60 s fault would have ended');
  // Nothing left: the run's proxy is gone with its toxic.
  await assert.rejects(touchProxy(), /ECONNREFUSED/);
  const record = journal.faultline.stop_conditions?.find((c) => c.name === name);
  assert.equal(record?.state, 'breached');
  t.diagnostic(
    `${name}: detected at ${stop.detected_at}, every fault removed ${stop.reaction_ms} ms later (${record?.checks} checks)`,
  );
  return { detected, removed };
}

describe(
  'a stop condition on a real Prometheus',
  { skip: needBinary(PROMETHEUS, 'prometheus') },
  () => {
    let app: Awaited<ReturnType<typeof startCountingService>>;
    let prometheus: Daemon;
    const query = 'sum(rate(app_errors_total[5s])) / sum(rate(app_requests_total[5s]))';
    before(async () => {
      app = await startCountingService();
      prometheus = await startPrometheus([app.address]);
      // Two scrapes at least, so the rates have a value (0 errors).
      await waitFor(
        'Prometheus to have the error ratio',
        async () =>
          (await prometheusQuery({ url: prometheus.url, query, timeoutMs: 1000 })).value === 0,
        { timeoutMs: 45_000, intervalMs: 250, ignoreErrors: true },
      );
    });
    after(async () => {
      await prometheus?.close();
      await app?.close();
    });

    it(
      'the 5xx ratio above 1 %: every fault removed within 250 ms of the breach being detected',
      { timeout: 60_000 },
      async (t) => {
        app.setErrorsPerSecond(0);
        let errorsFrom = 0;
        const journal = await run(
          [
            {
              name: 'error ratio',
              prometheus: { url: prometheus.url, query },
              above: 0.01,
            },
          ],
          async () => {
            await pause(1500); // a few checks below the bound first
            errorsFrom = Date.now();
            app.setErrorsPerSecond(20); // 20 errors in 100 requests a second
          },
        );
        app.setErrorsPerSecond(0);
        const { detected } = await assertStoppedInTime(t, journal, 'error ratio', 'prometheus');
        assert.ok(detected >= errorsFrom, 'not before the errors began');
        assert.ok(
          detected - errorsFrom < 5000,
          `detected ${detected - errorsFrom} ms after the errors began (1 s scrapes, 1 s checks)`,
        );
        assert.ok(Number(journal.faultline.stop!.value.split(' ')[0]) > 0.01);
        const record = journal.faultline.stop_conditions![0]!;
        assert.ok(record.checks >= 2, 'checked before the breach too');
        assert.equal(record.errors, 0);
        t.diagnostic(`errors began → detected: ${detected - errorsFrom} ms`);
      },
    );

    it(
      'Prometheus killed mid-run: each failed check is in the journal, and after 3 in a row the faults are removed',
      { timeout: 60_000 },
      async (t) => {
        let killedAt = 0;
        const journal = await run(
          [{ prometheus: { url: prometheus.url, query }, above: 0.5, every: '500ms' }],
          async () => {
            await pause(1000);
            killedAt = Date.now();
            prometheus.process.kill('SIGKILL');
          },
        );
        const { detected } = await assertStoppedInTime(t, journal, 'prometheus-1', 'prometheus');
        assert.equal(journal.faultline.stop!.unevaluable, true);
        assert.match(journal.faultline.stop!.value, /could not be evaluated 3 times in a row/);
        const record = journal.faultline.stop_conditions![0]!;
        assert.equal(record.errors, 3);
        assert.equal(record.unevaluable?.length, 1);
        assert.equal(record.unevaluable![0]!.checks, 3);
        assert.match(record.unevaluable![0]!.error, /ECONNREFUSED/);
        assert.ok(
          journal.faultline.warnings?.some((w) => /"prometheus-1" could not be evaluated/.test(w)),
          'the first failure is a warning of the run',
        );
        assert.ok(detected - killedAt < 3000, `stopped ${detected - killedAt} ms after the kill`);
      },
    );
  },
);

describe(
  'a stop condition on a real Alertmanager',
  { skip: needBinary(ALERTMANAGER, 'prometheus-alertmanager') },
  () => {
    let alertmanager: Daemon;
    before(async () => {
      alertmanager = await startAlertmanager();
      // Alerts that do not match: another name, the same name with another severity.
      await pushAlert(alertmanager.url, { alertname: 'DiskFull', severity: 'page' });
      await pushAlert(alertmanager.url, { alertname: 'PaymentErrors', severity: 'ticket' });
    });
    after(async () => alertmanager?.close());

    it(
      'an alert with the given labels fires: every fault removed within 250 ms of its detection',
      { timeout: 60_000 },
      async (t) => {
        let pushedAt = 0;
        const journal = await run(
          [
            {
              name: 'payments paging',
              alertmanager: {
                url: alertmanager.url,
                matchers: { alertname: 'PaymentErrors', severity: 'page' },
              },
            },
          ],
          async () => {
            await pause(1500);
            pushedAt = Date.now();
            await pushAlert(alertmanager.url, {
              alertname: 'PaymentErrors',
              severity: 'page',
              service: 'payments',
            });
          },
        );
        const { detected } = await assertStoppedInTime(
          t,
          journal,
          'payments paging',
          'alertmanager',
        );
        assert.match(journal.faultline.stop!.value, /^1 alert firing: PaymentErrors\{/);
        assert.match(journal.faultline.stop!.value, /service="payments"/);
        const record = journal.faultline.stop_conditions![0]!;
        assert.ok(record.checks >= 2, 'the alerts that do not match did not stop it');
        assert.ok(detected - pushedAt < 2500, `detected ${detected - pushedAt} ms after the push`);
        t.diagnostic(`alert pushed → detected: ${detected - pushedAt} ms`);
      },
    );
  },
);

describe('a stop condition on an HTTP check', () => {
  let server: Server;
  let url: string;
  let status = 200;
  let queue = 3;
  before(async () => {
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ queue }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a JSON value beyond its bound stops the run in time', { timeout: 60_000 }, async (t) => {
    status = 200;
    queue = 3;
    const journal = await run(
      [
        {
          name: 'queue depth',
          http: { url },
          expect: { status: 200, json: { path: '$.queue', atMost: 100 } },
          every: '250ms',
        },
      ],
      async () => {
        await pause(1000);
        queue = 500;
      },
    );
    await assertStoppedInTime(t, journal, 'queue depth', 'http');
    assert.match(journal.faultline.stop!.value, /\$\.queue: value 500, expected at most 100/);
    assert.match(journal.faultline.stop_conditions![0]!.describe, /\$\.queue atMost 100/);
  });

  it(
    'a status that lasts its `for`: stopped once it has lasted',
    { timeout: 60_000 },
    async (t) => {
      status = 200;
      queue = 3;
      const journal = await run([{ http: { url }, for: '1s', every: '200ms' }], async () => {
        await pause(600);
        status = 503;
      });
      status = 200;
      const { detected } = await assertStoppedInTime(t, journal, 'http-1', 'http');
      const since = Date.parse(journal.faultline.stop!.breaching_since!);
      assert.ok(detected - since >= 1000, `breaching for ${detected - since} ms before the stop`);
      assert.match(journal.faultline.stop!.value, /status 503, expected 200/);
    },
  );

  it(
    'unreachable before the method (onError: stop, the default): no fault is applied',
    { timeout: 30_000 },
    async () => {
      const closed = `http://127.0.0.1:${await freePort()}/health`;
      const journal = await run([{ http: { url: closed } }]);
      assert.equal(journal.faultline.outcome, 'aborted', journal.faultline.reason);
      assert.deepEqual(journal.faultline.faults, [], 'nothing was injected');
      assert.equal(journal.faultline.stop?.unevaluable, true);
      assert.match(journal.faultline.stop?.value ?? '', /could not be evaluated before the method/);
    },
  );

  it(
    'unreachable with onError: continue: the run goes on, every failed check in the journal',
    { timeout: 30_000 },
    async () => {
      const closed = `http://127.0.0.1:${await freePort()}/health`;
      const journal = await run(
        [{ name: 'blind', http: { url: closed }, onError: 'continue', every: '250ms' }],
        undefined,
        2,
      );
      assert.notEqual(journal.faultline.outcome, 'aborted', journal.faultline.reason);
      assert.equal(journal.faultline.stop, undefined);
      assert.equal(journal.faultline.faults[0]?.state, 'removed');
      const record = journal.faultline.stop_conditions![0]!;
      assert.equal(record.state, 'unknown');
      assert.ok(record.errors >= 4, `${record.errors} failed checks`);
      assert.equal(record.errors, record.checks);
      assert.equal(record.unevaluable?.length, 1, 'one stretch of failures');
      assert.ok(
        journal.faultline.warnings?.some((w) =>
          /"blind" could not be evaluated: .*onError: continue/.test(w),
        ),
      );
    },
  );
});

describe('a stop condition on a command', () => {
  it(
    "the command's exit code turns non-zero: every fault removed in time",
    { timeout: 60_000 },
    async (t) => {
      const flag = join(dir, 'broken');
      const journal = await run(
        [
          {
            name: 'ledger consistent',
            command: { run: ['test', '!', '-e', flag] },
            every: '200ms',
          },
        ],
        async () => {
          await pause(800);
          await writeFile(flag, '');
        },
      );
      await assertStoppedInTime(t, journal, 'ledger consistent', 'command');
      assert.equal(journal.faultline.stop!.value, 'exit code 1, expected 0');
      assert.ok(journal.faultline.stop_conditions![0]!.checks >= 3);
    },
  );
});

describe('a stop condition in a game day', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  before(async () => (stack = await startRemoteProxyStack('faultline-stop-gameday-')));
  after(async () => stack.close());

  it(
    'ends the stage aborted with the remote toxic gone, and the game day with it',
    { timeout: 60_000 },
    async () => {
      const flag = join(stack.dir, 'page');
      await writeFile(
        join(stack.dir, 'slow-db.yaml'),
        stringify({
          title: 'slow database',
          targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
          // Load through the proxy, so the fault is shown to reach the service.
          steadyState: {
            load: {
              url: `${stack.service.url}/health`,
              rate: '20/s',
              baseline: '500ms',
              recovery: '1s',
            },
          },
          method: [{ fault: 'latency', target: 'db', delay: '40ms', duration: '5s' }],
          safety: {
            maxDuration: '60s',
            stopWhen: [{ name: 'paged', command: { run: `test ! -e ${flag}` }, every: '200ms' }],
          },
        }),
      );
      await writeFile(
        join(stack.dir, 'plan.yaml'),
        stringify({
          title: 'stop conditions in a game day',
          objective: 'stop when paged',
          hypothesis: 'nobody is paged',
          roles: { operator: 'ana', scribe: 'ben', oncall: 'dev' },
          blastRadius: 'the db proxy only',
          killSwitch: 'abort',
          successCriteria: [{ name: 'nobody paged', manual: 'no page reached on-call' }],
          experiments: ['slow-db.yaml'],
          stages: [{ percentage: 100, observe: '30s' }],
          maxHold: '2m',
        }),
      );
      let text = '';
      const out = new (await import('node:stream')).PassThrough();
      out.on('data', (c: Buffer) => (text += c.toString()));
      let finished = false;
      const done = main({
        argv: ['gameday', 'plan.yaml', '--out', 'out'],
        env: {
          PATH: process.env['PATH'],
          CI: 'true',
          FAULTLINE_STATE_DIR: join(stack.dir, 'state'),
        },
        cwd: stack.dir,
        stdout: out,
        stderr: out,
        signal: new AbortController().signal,
      }).finally(() => (finished = true));
      await waitFor(
        'the stage fault on the proxy',
        () => {
          if (finished) throw new Error('the game day ended before its stage applied the fault');
          return stack.proxy.toxics.length > 0;
        },
        { timeoutMs: 30_000 },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${text}`);
      });
      await writeFile(flag, '');
      const code = await done;
      assert.equal(code, 3, text);
      assert.deepEqual(stack.proxy.toxics, [], 'the toxic is gone from the remote proxy');
      assert.match(text, /stop condition "paged" was breached/);
      const stage = JSON.parse(
        await readFile(join(stack.dir, 'out', '02-stage-1.json'), 'utf8'),
      ) as Journal;
      assert.equal(stage.faultline.stop?.condition, 'paged');
      const reaction = stage.faultline.stop?.reaction_ms;
      assert.ok(reaction !== undefined && reaction <= BOUND_MS, `reaction ${reaction} ms`);
    },
  );
});
