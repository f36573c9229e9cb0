// Scheduled chaos with an injected clock: a day (or two) of schedule in seconds. Real runs on a
// remote fault proxy in front of a real service; a real health endpoint that reports an outage
// in the afternoon of the virtual day; blackout dates; the leash; a clean stop mid-run.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { PassThrough } from 'node:stream';
import { VirtualClock } from '../../src/schedule/clock.js';
import { readSchedule } from '../../src/schedule/schedule-read.js';
import { runSchedule, type HistoryEntry } from '../../src/schedule/scheduler.js';
import { startRemoteProxyStack } from '../helpers/services.js';
import { waitFor } from '../helpers/wait-for.js';

/** mulberry32: a seeded uniform generator, so the draws are the same every time. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('faultline schedule', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  let health: Server;
  let healthUrl: string;
  let clock: VirtualClock;
  let maxToxics = 0;
  const watch = setInterval(
    () => (maxToxics = Math.max(maxToxics, stack?.proxy.toxics.length ?? 0)),
    5,
  );

  before(async () => {
    stack = await startRemoteProxyStack('faultline-schedule-');
    // The outage checker's endpoint: an incident from 13:00 to 15:00 (virtual time, UTC).
    health = createServer((_req, res) => {
      const h = clock?.now().getUTCHours() ?? 0;
      res.writeHead(h >= 13 && h < 15 ? 503 : 200).end();
    });
    health.listen(0, '127.0.0.1');
    await once(health, 'listening');
    healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
    await writeFile(
      join(stack.dir, 'slow-db.yaml'),
      stringify({
        title: 'slow database',
        targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
        steadyState: {
          probes: [
            {
              name: 'health',
              http: { url: `${stack.service.url}/health`, timeout: '3s' },
              expect: { status: 200 },
            },
          ],
        },
        method: [{ fault: 'latency', target: 'db', delay: '20ms', duration: '${faultDuration}' }],
        configuration: { faultDuration: { env: 'FAULT_DURATION', default: '300ms' } },
        safety: { maxDuration: '60s' },
      }),
    );
  });
  after(async () => {
    clearInterval(watch);
    health.closeAllConnections();
    await new Promise((r) => health.close(r));
    await stack.close();
  });

  async function schedule(name: string, doc: Record<string, unknown>): Promise<string> {
    const file = join(stack.dir, name);
    await writeFile(
      file,
      stringify({
        title: name,
        groups: [
          {
            name: 'payments',
            experiments: ['slow-db.yaml'],
            meanTimeBetweenFaults: '1h',
            minimumGap: '30m',
          },
        ],
        ...doc,
      }),
    );
    return file;
  }

  const minutes = (e: HistoryEntry): number =>
    new Date(e.at).getUTCHours() * 60 + new Date(e.at).getUTCMinutes();

  it(
    'leashed (the default): a day of draws logged as would-run, inside the window, gaps kept, nothing applied',
    { timeout: 60_000 },
    async () => {
      const loaded = await readSchedule(
        await schedule('leashed.yaml', { windows: ['* 9-16 * * 1-5'] }),
      );
      clock = new VirtualClock(new Date('2025-01-06T00:00:00Z')); // a Monday
      maxToxics = 0;
      const history = await runSchedule(loaded, {
        dir: join(stack.dir, 'leashed'),
        stateDir: join(stack.dir, 'state'),
        env: {},
        signal: new AbortController().signal,
        print: () => undefined,
        clock,
        random: seeded(7),
        until: new Date('2025-01-07T00:00:00Z'),
      });
      assert.ok(
        history.length >= 4,
        `a day with a 1 h mean time between faults draws several: ${history.length}`,
      );
      assert.ok(history.every((e) => e.action === 'would-run' && e.reason === 'leashed'));
      assert.ok(
        history.every((e) => minutes(e) >= 9 * 60 && minutes(e) < 17 * 60),
        'only inside 09:00–16:59',
      );
      for (let i = 1; i < history.length; i++)
        assert.ok(
          new Date(history[i]!.at).getTime() - new Date(history[i - 1]!.at).getTime() >=
            30 * 60_000,
          'minimum gap kept',
        );
      assert.equal(maxToxics, 0, 'leashed: no fault ever reached the proxy');
    },
  );

  it(
    'unleashed over two days: runs for real; skips in the blackout and while the health gate fails',
    { timeout: 120_000 },
    async () => {
      const file = await schedule('unleashed.yaml', {
        windows: ['* 9-16 * * 1-5'],
        unleashed: true,
        blackouts: ['2025-01-07'],
        healthGate: { probes: [{ url: healthUrl }] },
      });
      const loaded = await readSchedule(file);
      clock = new VirtualClock(new Date('2025-01-06T00:00:00Z'));
      maxToxics = 0;
      const dir = join(stack.dir, 'unleashed');
      const history = await runSchedule(loaded, {
        dir,
        stateDir: join(stack.dir, 'state'),
        env: {},
        signal: new AbortController().signal,
        print: () => undefined,
        clock,
        random: seeded(11),
        until: new Date('2025-01-08T00:00:00Z'),
      });
      const ran = history.filter((e) => e.action === 'ran');
      assert.ok(ran.length >= 1, JSON.stringify(history, null, 1));
      for (const e of ran) {
        assert.equal(e.at.slice(0, 10), '2025-01-06', 'no run on the blackout day');
        assert.ok(!(minutes(e) >= 13 * 60 && minutes(e) < 15 * 60), 'no run during the incident');
        assert.ok(e.outcome && e.outcome !== 'residue', `verdict recorded: ${e.outcome}`);
        const journal = JSON.parse(await readFile(join(dir, e.journal!), 'utf8')) as {
          faultline: { faults: { state: string }[] };
        };
        assert.deepEqual(
          journal.faultline.faults.map((f) => f.state),
          ['removed'],
        );
      }
      assert.ok(maxToxics >= 1, 'the runs really applied their fault to the proxy');
      const skipped = history.filter((e) => e.action === 'skipped');
      assert.ok(
        skipped.some(
          (e) => e.reason?.startsWith('blackout 2025-01-07') && e.at.startsWith('2025-01-07'),
        ),
        'skipped on the blackout day',
      );
      assert.ok(
        skipped.some(
          (e) =>
            e.reason?.startsWith('unhealthy:') && minutes(e) >= 13 * 60 && minutes(e) < 15 * 60,
        ),
        'skipped while unhealthy',
      );
      assert.deepEqual(stack.proxy.toxics, []);
      // The history file and `schedule status` agree.
      const lines = (await readFile(join(dir, 'history.jsonl'), 'utf8')).trim().split('\n');
      assert.equal(lines.length, history.length);
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const code = await main({
        argv: ['schedule', 'status', '--dir', dir],
        env: {},
        cwd: stack.dir,
        stdout: out,
        stderr: out,
        signal: new AbortController().signal,
      });
      assert.equal(code, 0, text);
      assert.match(text, /stopped at 2025-01-08/);
      assert.match(text, new RegExp(`history: ${history.length} entries`));
      assert.match(text, /skipped \(blackout\)/);
    },
  );

  it(
    'a clean stop (SIGTERM) during a run removes its fault and records it interrupted',
    { timeout: 60_000 },
    async () => {
      const file = await schedule('stop.yaml', { windows: ['* * * * *'], unleashed: true });
      const loaded = await readSchedule(file);
      clock = new VirtualClock(new Date('2025-01-06T10:00:00Z'));
      const stop = new AbortController();
      const dir = join(stack.dir, 'stop');
      const running = runSchedule(loaded, {
        dir,
        stateDir: join(stack.dir, 'state'),
        env: { FAULT_DURATION: '30s' },
        signal: stop.signal,
        print: () => undefined,
        clock,
        random: () => 0,
      });
      await waitFor('the run to apply its fault', () => stack.proxy.toxics.length > 0, {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      const status = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as {
        running: unknown[];
      };
      assert.equal(status.running.length, 1, 'status shows the run in flight');
      stop.abort(new Error('received SIGTERM'));
      const history = await running;
      assert.deepEqual(stack.proxy.toxics, [], 'rolled back');
      const ran = history.filter((e) => e.action === 'ran');
      assert.equal(ran.length, 1);
      assert.equal(ran[0]!.outcome, 'interrupted');
      assert.ok(
        history.filter((e) => e.action === 'skipped').every((e) => e.reason?.startsWith('busy')),
        'maxConcurrent 1: further draws skipped as busy',
      );
      const after = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as {
        running: unknown[];
        stopped?: string;
      };
      assert.deepEqual(after.running, []);
      assert.ok(after.stopped);
    },
  );

  it(
    'a stop condition on a signal ends a scheduled run aborted, its fault removed',
    { timeout: 60_000 },
    async () => {
      // The system's own signal: a health endpoint that fails while the proxy carries a fault.
      const guard = createServer((_req, res) => {
        res.writeHead(stack.proxy.toxics.length > 0 ? 503 : 200).end();
      });
      guard.listen(0, '127.0.0.1');
      await once(guard, 'listening');
      try {
        await writeFile(
          join(stack.dir, 'guarded-db.yaml'),
          stringify({
            title: 'slow database, guarded',
            targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
            steadyState: {
              load: { url: `${stack.service.url}/health`, rate: '20/s', baseline: '300ms' },
            },
            method: [{ fault: 'latency', target: 'db', delay: '20ms', duration: '30s' }],
            safety: {
              maxDuration: '60s',
              stopWhen: [
                {
                  name: 'guard',
                  http: { url: `http://127.0.0.1:${(guard.address() as AddressInfo).port}/` },
                  every: '200ms',
                },
              ],
            },
          }),
        );
        const file = await schedule('guarded.yaml', {
          windows: ['* * * * *'],
          unleashed: true,
          groups: [
            { name: 'payments', experiments: ['guarded-db.yaml'], meanTimeBetweenFaults: '1h' },
          ],
        });
        const loaded = await readSchedule(file);
        clock = new VirtualClock(new Date('2025-01-06T10:00:00Z'));
        const stop = new AbortController();
        const dir = join(stack.dir, 'guarded');
        const running = runSchedule(loaded, {
          dir,
          stateDir: join(stack.dir, 'state'),
          env: {},
          signal: stop.signal,
          print: () => undefined,
          clock,
          random: () => 0,
        });
        await waitFor(
          'a scheduled run to end',
          async () =>
            (await readFile(join(dir, 'history.jsonl'), 'utf8').catch(() => '')).includes(
              '"action":"ran"',
            ),
          { timeoutMs: 30_000, intervalMs: 50 },
        );
        stop.abort(new Error('received SIGTERM'));
        const history = await running;
        const ran = history.find((e) => e.action === 'ran')!;
        assert.equal(ran.outcome, 'aborted');
        assert.equal(ran.exitCode, 3);
        const journal = JSON.parse(await readFile(join(dir, ran.journal!), 'utf8')) as {
          faultline: { stop?: { condition: string; kind?: string }; faults: { state: string }[] };
        };
        assert.equal(journal.faultline.stop?.condition, 'guard');
        assert.equal(journal.faultline.stop?.kind, 'http');
        assert.deepEqual(
          journal.faultline.faults.map((f) => f.state),
          ['removed'],
        );
        assert.deepEqual(stack.proxy.toxics, [], 'no fault left on the proxy');
      } finally {
        guard.closeAllConnections();
        await new Promise((resolve) => guard.close(resolve));
      }
    },
  );

  it('a bad schedule: located problems, exit 2', async () => {
    await writeFile(
      join(stack.dir, 'bad-schedule.yaml'),
      'title: x\ntimezone: Mars/Olympus\nwindows: ["99 * * * *"]\ngroups:\n  - name: g\n    experiments: [nope.yaml]\n    meanTimeBetweenFaults: often\n',
    );
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const code = await main({
      argv: ['schedule', 'bad-schedule.yaml'],
      env: {},
      cwd: stack.dir,
      stdout: out,
      stderr: out,
      signal: new AbortController().signal,
    });
    assert.equal(code, 2, text);
    assert.match(text, /bad-schedule\.yaml:2:\d+.*unknown time zone/);
    assert.match(text, /bad-schedule\.yaml:3:\d+.*cron/);
    assert.match(text, /bad-schedule\.yaml:7:\d+.*duration/);
  });
});

describe('shipped game day and schedule examples', () => {
  it('examples/gameday/*.yaml and examples/schedule/*.yaml load with their experiments', async () => {
    const { readdirSync } = await import('node:fs');
    const { readGameDay } = await import('../../src/gameday/gameday-read.js');
    const root = join(import.meta.dirname, '../..');
    const plans = readdirSync(join(root, 'examples/gameday')).filter((f) => f.endsWith('.yaml'));
    const schedules = readdirSync(join(root, 'examples/schedule')).filter((f) =>
      f.endsWith('.yaml'),
    );
    assert.ok(plans.length > 0 && schedules.length > 0);
    for (const f of plans) {
      const loaded = await readGameDay(join(root, 'examples/gameday', f));
      assert.ok(loaded.experiments.length > 0, f);
    }
    for (const f of schedules) {
      const loaded = await readSchedule(join(root, 'examples/schedule', f));
      assert.equal(loaded.schedule.unleashed, false, `${f} ships leashed`);
    }
  });
});
