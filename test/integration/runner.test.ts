// The runner's lifecycle against real services: an HTTP service whose dependency (a TCP echo
// "database") sits behind a faultline proxy that the run itself starts. Each test writes an
// experiment in faultline's format, runs it in-process, and checks the journal and outcome.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseExperiment } from '../../src/run-plan/read-experiment.js';
import { planExperiment } from '../../src/run-plan/from-experiment.js';
import type { Journal } from '../../src/journal/journal.js';
import { runExperiment, type RunEvent } from '../../src/runner/runner.js';
import { ProxyCollection, startControlServer } from '../../src/index.js';
import { freePort, startEcho, startService } from '../helpers/services.js';
import { localAt } from '../helpers/locations.js';

describe('runner lifecycle (faultline format, in-process proxy)', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let service: Awaited<ReturnType<typeof startService>>;
  let proxyPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-runner-'));
    echo = await startEcho();
    proxyPort = await freePort();
    service = await startService(proxyPort, 1_000);
  });
  after(async () => {
    await service.close();
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  function experiment(overrides: Record<string, unknown>): Record<string, unknown> {
    return {
      title: 'service survives a slow database',
      configuration: { serviceUrl: service.url },
      targets: { db: { type: 'proxy', listen: `127.0.0.1:${proxyPort}`, upstream: echo.address } },
      steadyState: {
        probes: [
          {
            name: 'health',
            http: { url: '${serviceUrl}/health', timeout: '2s' },
            expect: { status: 200, latency: '400ms' },
          },
        ],
      },
      method: [{ fault: 'latency', target: 'db', delay: '100ms', duration: '600ms' }],
      runtime: { hypothesisFrequency: '100ms' },
      safety: { maxDuration: '20s' },
      ...overrides,
    };
  }

  let runs = 0;
  async function run(
    doc: Record<string, unknown>,
    signal?: AbortSignal,
    onEvent?: (e: RunEvent) => void,
  ): Promise<Journal> {
    const file = `experiment-${++runs}.yaml`;
    const plan = planExperiment(parseExperiment(stringify(doc), file), { file, env: {} });
    const journalPath = join(dir, `${runs}.json`);
    const journal = await runExperiment(plan, { signal, journalPath, onEvent });
    // The on-disk journal is the same as the returned one.
    assert.deepEqual(
      JSON.parse(await readFile(journalPath, 'utf8')),
      JSON.parse(JSON.stringify(journal)),
    );
    return journal;
  }

  it('holds: gate met, fault applied and removed with the traffic it touched, steady state met during and after', async () => {
    const journal = await run(experiment({}));
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    assert.equal(journal.faultline.exit_code, 0);
    assert.equal(journal.status, 'completed');
    assert.equal(journal.steady_states.before?.steady_state_met, true);
    assert.equal(journal.steady_states.after?.steady_state_met, true);
    assert.ok(journal.steady_states.during.length >= 2, 'checked during the method');
    const [fault] = journal.faultline.faults;
    assert.equal(fault?.state, 'removed');
    assert.ok(
      fault.touched && fault.touched.connections > 0,
      'the fault touched the service traffic',
    );
    assert.deepEqual(journal.faultline.verification, [{ fault: fault.name, gone: true }]);
  });

  it('deviates when the fault makes the service too slow during the method, and still removes the fault', async () => {
    const journal = await run(
      experiment({ method: [{ fault: 'latency', target: 'db', delay: '600ms', duration: '1s' }] }),
    );
    assert.equal(journal.faultline.outcome, 'deviated');
    assert.equal(journal.faultline.exit_code, 1);
    assert.equal(journal.deviated, true, 'a deviation seen only during the method sets deviated');
    assert.ok(journal.steady_states.during.some((s) => !s.steady_state_met));
    assert.equal(journal.steady_states.after?.steady_state_met, true, 'recovered after the fault');
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
  });

  it('fail-fast stops the method at the first deviation', async () => {
    const journal = await run(
      experiment({
        method: [
          { fault: 'latency', target: 'db', delay: '600ms', duration: '10s' },
          { wait: '10s' },
        ],
        runtime: { hypothesis: 'fail-fast', hypothesisFrequency: '100ms' },
      }),
    );
    assert.equal(journal.faultline.outcome, 'deviated');
    assert.ok((journal.duration ?? 99) < 8, `stopped early (${journal.duration} s)`);
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
  });

  it('a failed gate injects nothing and is inconclusive (exit 4)', async () => {
    const journal = await run(
      experiment({
        steadyState: {
          probes: [
            { name: 'health', http: { url: '${serviceUrl}/health' }, expect: { status: 418 } },
          ],
        },
      }),
    );
    assert.equal(journal.faultline.outcome, 'inconclusive');
    assert.equal(journal.faultline.exit_code, 4);
    assert.equal(journal.status, 'failed');
    assert.equal(journal.faultline.faults.length, 0, 'nothing injected');
    assert.equal(journal.run.length, 0);
    assert.match(journal.faultline.reason ?? '', /before the method/);
  });

  it('a failed action fails the run (inconclusive), and the fault applied before it is removed', async () => {
    const journal = await run(
      experiment({
        method: [
          { fault: 'latency', target: 'db', delay: '50ms', duration: '10s' },
          { action: { name: 'broken', command: { run: ['/nonexistent/faultline-action'] } } },
          { wait: '10s' },
        ],
      }),
    );
    assert.equal(journal.faultline.outcome, 'inconclusive');
    assert.equal(journal.status, 'failed');
    assert.equal(journal.run[0]?.status, 'succeeded', 'the fault was applied');
    assert.equal(journal.run[1]?.status, 'failed');
    assert.match(journal.faultline.reason ?? '', /broken/);
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
    assert.ok((journal.duration ?? 99) < 8);
  });

  it('an interruption removes the fault and ends interrupted (exit 130)', async () => {
    const controller = new AbortController();
    const journal = await run(
      experiment({ method: [{ fault: 'latency', target: 'db', delay: '50ms', duration: '30s' }] }),
      controller.signal,
      (event) => {
        if (event.type === 'fault-applied') controller.abort(new Error('SIGINT'));
      },
    );
    assert.equal(journal.status, 'interrupted');
    assert.equal(journal.faultline.exit_code, 130);
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
    assert.equal(journal.steady_states.after, null);
  });

  it('the safety limit aborts the run (exit 3) and removes the fault', async () => {
    const journal = await run(
      experiment({
        method: [{ fault: 'latency', target: 'db', delay: '50ms', duration: '30s' }],
        safety: { maxDuration: '1s' },
      }),
    );
    assert.equal(journal.status, 'aborted');
    assert.equal(journal.faultline.exit_code, 3);
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
    assert.ok((journal.duration ?? 99) < 5);
  });

  it('a fault that touched no traffic makes the run inconclusive', async () => {
    const journal = await run(
      experiment({
        steadyState: {
          probes: [{ name: 'tcp open', tcp: { port: Number(echo.address.split(':')[1]) } }],
        },
        method: [{ fault: 'latency', target: 'db', delay: '50ms', duration: '300ms' }],
      }),
    );
    assert.equal(journal.faultline.outcome, 'inconclusive');
    assert.match(journal.faultline.reason ?? '', /touched no traffic/);
  });

  it('runs rollback actions and method probes with expectations', async () => {
    const journal = await run(
      experiment({
        method: [
          { fault: 'latency', target: 'db', delay: '20ms', duration: '300ms' },
          {
            probe: {
              name: 'health under fault',
              http: { url: '${serviceUrl}/health' },
              expect: { status: 200, json: { path: '$.ok', equals: true } },
            },
          },
        ],
        rollbacks: [{ name: 'say done', command: { run: 'echo rolled-back' } }],
      }),
    );
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    assert.equal(journal.run[1]?.tolerance_met, true);
    assert.equal(journal.rollbacks.length, 1);
    assert.equal((journal.rollbacks[0]?.output as { stdout: string }).stdout.trim(), 'rolled-back');
  });

  it('runs each probe in the phases of its mode (SOT, EOT, OnChaos, Continuous)', async () => {
    const journal = await run(
      experiment({
        steadyState: {
          probes: [
            { name: 'sot', mode: 'SOT', command: { run: 'true' } },
            { name: 'eot', mode: 'EOT', command: { run: 'true' } },
            { name: 'chaos', mode: 'OnChaos', command: { run: 'true' } },
            { name: 'always', command: { run: 'true' } },
          ],
        },
        method: [
          { fault: 'latency', target: 'db', delay: '10ms', duration: '400ms' },
          { probe: { name: 'touch', http: { url: '${serviceUrl}/health' } } },
        ],
      }),
    );
    assert.deepEqual(
      journal.steady_states.before?.probes.map((p) => p.name),
      ['sot', 'always'],
    );
    assert.deepEqual(
      journal.steady_states.after?.probes.map((p) => p.name),
      ['eot', 'always'],
    );
    assert.ok(journal.steady_states.during.length > 0);
    for (const state of journal.steady_states.during)
      assert.deepEqual(
        state.probes.map((p) => p.name),
        ['chaos', 'always'],
      );
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
  });

  it('freezes a process target with pause-process and resumes it', async () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      const state = async (): Promise<string> =>
        /State:\s+(\w)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
      const journal = await run({
        title: 'a frozen worker',
        targets: { worker: { type: 'process', pid } },
        method: [
          // Long enough that the probe's own process start, on a busy machine, lands inside it.
          { fault: 'pause-process', target: 'worker', duration: '3s' },
          {
            probe: {
              name: 'worker is stopped',
              command: { run: `grep -q '^State:.*T' /proc/${pid}/status` },
            },
          },
        ],
      });
      assert.equal(journal.run[1]?.tolerance_met, true, 'the process was stopped during the fault');
      assert.equal(journal.faultline.faults[0]?.state, 'removed');
      assert.ok(
        localAt(journal.faultline.faults[0]?.location).handle?.['agent'],
        'an agent kept the lease',
      );
      assert.notEqual(await state(), 'T', 'resumed after the run');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('runner: a fault that cannot be removed', () => {
  it('is reported as residue (exit 5) with the way out, never ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-residue-'));
    const collection = new ProxyCollection();
    const echo = await startEcho();
    await collection.create({ name: 'db', upstream: echo.address });
    const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
    try {
      const file = 'residue.yaml';
      const doc = {
        title: 'the fault server goes away',
        targets: { db: { type: 'remote-proxy', url: api.url, proxy: 'db' } },
        method: [{ fault: 'latency', target: 'db', delay: '10ms', duration: '300ms' }],
      };
      const plan = planExperiment(parseExperiment(stringify(doc), file), { file, env: {} });
      const journal = await runExperiment(plan, {
        journalPath: join(dir, 'j.json'),
        // A run with a fault left keeps its registration: in the test's directory, never the
        // machine's registry.
        registry: join(dir, 'runs'),
        cleanupTimeoutMs: 3_000,
        // The control API disappears while the fault is on: nothing can remove it through it.
        onEvent: (event) => {
          if (event.type === 'fault-applied') void api.close();
        },
      });
      assert.equal(journal.faultline.outcome, 'residue');
      assert.equal(journal.faultline.exit_code, 5);
      assert.equal(journal.faultline.faults[0]?.state, 'residue');
      assert.match(journal.faultline.reason ?? '', /faultline recover/);
      assert.ok(collection.get('db').toxics[0]?.expiresAt, 'the lease will still remove it');
    } finally {
      await collection.close();
      await echo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
