// The library API as an application's test suite uses it: `withFault` scoping a toxic to a test
// on a real faultline proxy (in-process, and on a control server over HTTP as `faultline proxy
// serve` runs it), in front of a real TCP upstream and a real HTTP service on port 0; and
// `runExperiment` with an object, with a file, and with bad input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  defineExperiment,
  ProxyApiClient,
  runExperiment,
  ValidationError,
  withFault,
  type RunEvent,
  type ToxicSpec,
} from '../../src/index.js';
import { freePort, startEcho, startRemoteProxyStack, startService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait-for.js';

type Stack = Awaited<ReturnType<typeof startRemoteProxyStack>>;

/** How long the service's GET /health took to reach its dependency and back, in ms. */
async function healthMs(url: string): Promise<number> {
  const res = await fetch(`${url}/health`);
  assert.equal(res.status, 200, 'the service answered');
  return ((await res.json()) as { ms: number }).ms;
}

describe('withFault: a fault for the duration of a test, removed whatever happens', () => {
  let stack: Stack;
  let api: ProxyApiClient;
  before(async () => {
    stack = await startRemoteProxyStack('faultline-library-');
    api = new ProxyApiClient({ url: stack.api.url });
  });
  after(() => stack.close());

  const latency = { type: 'latency', attributes: { latency: 300 } } satisfies ToxicSpec;

  it('await using: in place inside the block, gone at its end (in-process proxy)', async () => {
    assert.ok((await healthMs(stack.service.url)) < 250, 'fast before');
    {
      await using fault = await withFault({ proxy: stack.proxy, toxic: latency });
      assert.equal(stack.proxy.toxics.length, 1);
      assert.ok(fault.leased, 'an in-process proxy honours the lease');
      assert.ok((await healthMs(stack.service.url)) >= 290, 'the service is slow under the fault');
    }
    assert.equal(stack.proxy.toxics.length, 0, 'removed at the end of the block');
    assert.ok((await healthMs(stack.service.url)) < 250, 'fast again');
  });

  it('a test body that throws under `await using`: the fault is gone after', async () => {
    let seen: string | undefined;
    async function testBody(): Promise<void> {
      await using fault = await withFault({
        proxy: { server: stack.api.url, name: 'db' },
        toxic: latency,
      });
      seen = fault.toxic;
      assert.equal((await api.listToxics('db')).length, 1, 'on the server while the test runs');
      throw new Error('the assertion under test failed');
    }
    await assert.rejects(testBody(), /the assertion under test failed/);
    assert.ok(seen, 'the fault was applied');
    assert.deepEqual(await api.listToxics('db'), [], 'no toxic left on the server');
  });

  it('the callback form: the body throws, the error comes out unchanged, the fault is gone', async () => {
    const failure = new Error('expected a cache hit');
    await assert.rejects(
      withFault(
        { proxy: { server: stack.api.url, name: 'db' }, toxic: latency, lease: '30s' },
        async (fault) => {
          assert.equal(fault.proxy, 'db');
          assert.ok(fault.expiresAt > Date.now() + 25_000, 'leased for 30 s');
          assert.ok((await healthMs(stack.service.url)) >= 290, 'the fault reaches the service');
          throw failure;
        },
      ),
      (err) => err === failure,
    );
    assert.deepEqual(await api.listToxics('db'), []);
  });

  it("the callback form returns the body's value and removes the fault", async () => {
    const ms = await withFault({ proxy: stack.proxy, toxic: latency }, () =>
      healthMs(stack.service.url),
    );
    assert.ok(ms >= 290, `measured under the fault: ${ms} ms`);
    assert.equal(stack.proxy.toxics.length, 0);
  });

  it("a timed-out test: the test's signal aborts and the fault is removed without the body ending", async () => {
    // node:test aborts `t.signal` when a test times out (vitest its context's `signal`); a
    // controller stands in for it here so this test itself does not fail.
    const testSignal = new AbortController();
    const fault = await withFault({
      proxy: { server: stack.api.url, name: 'db' },
      toxic: latency,
      signal: testSignal.signal,
    });
    assert.equal((await api.listToxics('db')).length, 1);
    testSignal.abort(new Error('test timed out after 200ms'));
    await waitFor('the toxic removed from the server', async () => {
      return (await api.listToxics('db')).length === 0;
    });
    await waitFor('the handle to know it', () => fault.removed);
    await fault.remove(); // a second removal is not an error
  });

  it('removing twice, or after the lease ran out, is not an error', async () => {
    const fault = await withFault({ proxy: stack.proxy, toxic: latency, lease: 0.3 });
    await waitFor('the lease to run out', () => stack.proxy.toxics.length === 0);
    await fault.remove();
    await fault.remove();
    assert.equal(fault.removed, true);
  });

  it('a killed test process leaves nothing past the lease', { timeout: 30_000 }, async () => {
    // A child process stands for the test process: it applies a fault with a 2 s lease on the
    // control server and is then SIGKILLed, so no finally, no dispose, no signal handler runs.
    const script = [
      `import { withFault } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};`,
      `const f = await withFault({ proxy: { server: ${JSON.stringify(stack.api.url)}, name: 'db' },`,
      `  toxic: { type: 'latency', attributes: { latency: 300 } }, lease: 2 });`,
      `console.log('applied ' + f.toxic + ' ' + f.expiresAt);`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const applied = /^applied (latency_downstream_\w+) (\d+)/.exec(line.toString());
      assert.ok(applied, line.toString());
      const expiresAt = Number(applied[2]);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const left = await api.listToxics('db');
      if (Date.now() < expiresAt - 200)
        assert.deepEqual(
          left.map((t) => t.name),
          [applied[1]],
          'still there after the kill, before its lease ran out',
        );
      await waitFor(
        'the server to remove the toxic at the end of its lease',
        async () => (await api.listToxics('db')).length === 0,
        { timeoutMs: 10_000 },
      );
      const late = Date.now() - expiresAt;
      assert.ok(late > -300, `not removed before its lease ran out (${late} ms)`);
      assert.ok(late < 2_000, `removed at the end of its lease (${late} ms after it)`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it(
    'real node:test tests that throw and time out leave no fault on the server',
    { timeout: 60_000 },
    async () => {
      // A test file of an application's suite, run by node:test in a child process: one test
      // throws under `await using`, one times out while it holds a fault (node:test abandons its
      // body and aborts t.signal). Leases are 60 s, so a fault gone at once was removed by the
      // helper, not by its lease.
      const index = new URL('../../src/index.ts', import.meta.url).href;
      const suite = [
        `import { test } from 'node:test';`,
        `import { withFault } from ${JSON.stringify(index)};`,
        `const proxy = { server: process.env['PROXY_API']!, name: 'db' };`,
        `const toxic = { type: 'latency', attributes: { latency: 300 } };`,
        `test('throws', async (t) => {`,
        `  await using fault = await withFault({ proxy, toxic, signal: t.signal, lease: 60 });`,
        `  throw new Error('assertion failed under ' + fault.toxic);`,
        `});`,
        `test('times out', { timeout: 300 }, async (t) => {`,
        `  await withFault({ proxy, toxic, signal: t.signal, lease: 60 });`,
        `  await new Promise((resolve) => setTimeout(resolve, 2_000));`,
        `});`,
      ].join('\n');
      const dir = await mkdtemp(join(tmpdir(), 'faultline-library-suite-'));
      try {
        const file = join(dir, 'app.test.ts');
        await writeFile(file, suite);
        const { NODE_TEST_CONTEXT: _ours, ...env } = process.env;
        const child = spawn(
          process.execPath,
          ['--import', import.meta.resolve('tsx'), '--test', '--test-reporter=tap', file],
          {
            cwd: dir,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...env, PROXY_API: stack.api.url },
          },
        );
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
        await waitFor('the timed-out test to be reported', () => /not ok 2 - times out/.test(out), {
          timeoutMs: 30_000,
        }).catch((err: unknown) => {
          throw new Error(`${String(err)}; the suite printed: ${out}`);
        });
        assert.match(out, /not ok 1 - throws/, out);
        assert.match(out, /assertion failed under latency_downstream_/, out);
        await waitFor(
          'every fault the suite applied to be removed (leases are 60 s)',
          async () => (await api.listToxics('db')).length === 0,
          { timeoutMs: 3_000 },
        );
        await once(child, 'exit');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('a bad toxic is refused before anything is applied, with the problem located', async () => {
    await assert.rejects(
      // @ts-expect-error -- a misspelt type does not compile; at run time it is refused too.
      withFault({ proxy: stack.proxy, toxic: { type: 'latancy' } }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError, String(err));
        assert.deepEqual(
          err.issues.map((i) => [i.path, i.hint]),
          [['type', 'did you mean "latency"?']],
        );
        return true;
      },
    );
    await assert.rejects(withFault({ proxy: stack.proxy, toxic: latency, lease: 'soon' }), {
      code: 'E_BAD_REQUEST',
    });
    assert.equal(stack.proxy.toxics.length, 0);
  });
});

describe('runExperiment: an experiment from code, the journal back', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let service: Awaited<ReturnType<typeof startService>>;
  let proxyPort: number;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-library-run-'));
    echo = await startEcho();
    proxyPort = await freePort();
    service = await startService(proxyPort, 1_000);
  });
  after(async () => {
    await service.close();
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  const experiment = (): ReturnType<typeof defineExperiment> =>
    defineExperiment({
      title: 'the service survives a slow dependency',
      targets: { db: { type: 'proxy', listen: `127.0.0.1:${proxyPort}`, upstream: echo.address } },
      steadyState: {
        probes: [
          {
            name: 'health',
            http: { url: `${service.url}/health`, timeout: '2s' },
            expect: { status: 200, latency: '400ms' },
          },
        ],
      },
      method: [{ fault: 'latency', target: 'db', delay: '100ms', duration: '500ms' }],
      runtime: { hypothesisFrequency: '100ms' },
      safety: { maxDuration: '20s' },
    });

  it('an object: held, the journal returned and kept in the state directory', async () => {
    const stateDir = join(dir, 'state');
    const events: RunEvent['type'][] = [];
    const journal = await runExperiment(experiment(), {
      stateDir,
      onEvent: (e) => events.push(e.type),
    });
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    assert.equal(journal.faultline.exit_code, 0);
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
    assert.ok(events.includes('fault-applied') && events.includes('fault-removed'), 'progress');
    const files = await readdir(stateDir);
    assert.equal(files.length, 1, `one live journal in the state directory: ${files.join(', ')}`);
  });

  it('a file, relative to cwd, with vars: held, journal where asked', async () => {
    const doc = experiment() as Record<string, unknown>;
    const file = join(dir, 'experiment.yaml');
    await writeFile(
      file,
      stringify({
        ...doc,
        configuration: { healthUrl: 'unused' },
        steadyState: {
          probes: [
            {
              name: 'health',
              http: { url: '${healthUrl}', timeout: '2s' },
              expect: { status: 200 },
            },
          ],
        },
      }),
    );
    const journal = await runExperiment('experiment.yaml', {
      cwd: dir,
      journalPath: 'journal.json',
      vars: { healthUrl: `${service.url}/health` },
    });
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    await access(join(dir, 'journal.json'));
  });

  it("target overrides: a file's addresses replaced by the test's own", async () => {
    const file = join(dir, 'elsewhere.yaml');
    // The file points at a database that is not there; the test supplies its own.
    const doc = experiment() as { targets: Record<string, Record<string, unknown>> };
    await writeFile(
      file,
      stringify({ ...doc, targets: { db: { ...doc.targets['db'], upstream: '127.0.0.1:1' } } }),
    );
    const journal = await runExperiment(file, {
      journalPath: join(dir, 'override.json'),
      targets: { db: { upstream: echo.address } },
    });
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    const touched = journal.faultline.faults[0]?.touched;
    assert.ok(touched && touched.connections > 0, 'the fault touched the overridden path');
  });

  it('bad target overrides: every problem at once, by path, nothing run', async () => {
    await assert.rejects(
      runExperiment(experiment(), {
        stateDir: join(dir, 'bad-override'),
        targets: { dbb: { upstream: echo.address }, db: { upstrem: echo.address, listen: 5 } },
      }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError, String(err));
        const got = err.issues.map((i) => [i.path, i.hint]);
        assert.deepEqual(
          got.sort(),
          [
            ['targets.db.listen', undefined],
            ['targets.db.upstrem', 'did you mean "upstream"?'],
            ['targets.dbb', 'did you mean "db"?'],
          ],
          JSON.stringify(err.issues),
        );
        return true;
      },
    );
    await assert.rejects(access(join(dir, 'bad-override')), 'no journal was written');
  });

  it('a bad object: a ValidationError with every problem by JSON path, nothing run', async () => {
    const bad = {
      ...experiment(),
      method: [{ fault: 'latency', target: 'dbb', delay: 'slow', duration: '1s' }],
      safty: {},
    };
    await assert.rejects(runExperiment(bad, { stateDir: join(dir, 'bad') }), (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.equal(err.exitCode, 2);
      const paths = err.issues.map((i) => i.path).sort();
      assert.deepEqual(paths, ['method[0].delay', 'method[0].target', 'safty'], err.message);
      assert.ok(
        err.issues.every((i) => i.line === undefined && i.file === undefined),
        'no line of a text the caller never saw',
      );
      assert.ok(
        err.issues.some((i) => i.path === 'method[0].target' && /db/.test(i.hint ?? '')),
        `the unknown target gets a hint: ${JSON.stringify(err.issues)}`,
      );
      return true;
    });
    await assert.rejects(access(join(dir, 'bad')), 'no journal was written');
  });

  it('not an experiment object at all (from JavaScript): a ValidationError, not a crash', async () => {
    await assert.rejects(runExperiment([] as never), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /expected an experiment object/);
      return true;
    });
    await assert.rejects(
      runExperiment({ ...experiment(), title: 10n } as never),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /not plain data/);
        return true;
      },
    );
  });

  it('a bad file: the same error, located at file:line:column', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'title: t\ntargets:\n  db: { type: proxy, listen: "127.0.0.1:1", upstream: "127.0.0.1:2" }\nmethod:\n  - fault: latency\n    target: db\n    delay: slow\n',
    );
    await assert.rejects(runExperiment(file), (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      const issue = err.issues.find((i) => i.path === 'method[0].delay');
      assert.ok(issue, JSON.stringify(err.issues));
      assert.deepEqual([issue.file, issue.line, issue.column], [file, 7, 12]);
      return true;
    });
  });
});
