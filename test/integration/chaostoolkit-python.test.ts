// Chaos Toolkit's Python providers, run by faultline in the machine's python3: a pure-Python
// extension in test/fixtures/python/flpyfixture (standard library only, no pip) exercises
// arguments, configuration and secrets injection, return values, exceptions, a timeout and an
// interrupt mid-call; the chaos CLI's own fixtures that call os.path.exists run end to end
// through `faultline run` (a child process, in a directory of its own). chaosprometheus's probes
// run natively, as HTTP calls to Prometheus's API: a local server records what they ask (the
// stop-condition tests run a real Prometheus; here the point is each argument's mapping).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { certificateSet, createCa } from '../../src/engines/proxy/certificates.js';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Journal } from '../../src/journal/journal.js';
import { readPlan } from '../../src/run-plan/read-plan.js';
import { runExperiment } from '../../src/runner/runner.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';
import { entryArgs } from '../helpers/entry.js';

const FIXTURE_PATH = fileURLToPath(new URL('../fixtures/python/', import.meta.url));
const CLI_FIXTURES = fileURLToPath(
  new URL('../fixtures/chaostoolkit/chaostoolkit-cli/', import.meta.url),
);

describe(
  'Chaos Toolkit Python providers (python3, a pure-Python fixture module)',
  { skip: needTool(TOOLS.python3) },
  () => {
    let dir: string;
    const env = { ...process.env, PYTHONPATH: FIXTURE_PATH, FAULTLINE_TEST_SECRET: 's3cr3t' };
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'faultline-ctk-python-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    let n = 0;
    async function run(
      experiment: Record<string, unknown>,
      signal?: AbortSignal,
    ): Promise<Journal> {
      const file = join(dir, `py-${++n}.json`);
      await writeFile(file, JSON.stringify(experiment, null, 2));
      const plan = await readPlan(file, { env });
      return runExperiment(plan, { journalPath: join(dir, `journal-${n}.json`), signal });
    }
    const py = (
      name: string,
      func: string,
      args: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ) => ({
      type: 'probe',
      name,
      provider: { type: 'python', module: 'flpyfixture', func, arguments: args, ...extra },
    });

    it('arguments, configuration and secrets go in; return values come back as the output; tolerances judge them', async () => {
      const journal = await run({
        title: 'python providers',
        description: 'd',
        configuration: {
          greeting: 'hello',
          from_env: { type: 'env', key: 'FAULTLINE_TEST_SECRET' },
        },
        secrets: {
          vault: { token: { type: 'env', key: 'FAULTLINE_TEST_SECRET' } },
          other: { token: 'not me' },
        },
        'steady-state-hypothesis': {
          title: 'h',
          probes: [
            { ...py('sum', 'add', { a: 2, b: 40 }), tolerance: 42 },
            { ...py('config', 'echo_configuration', { key: 'greeting' }), tolerance: 'hello' },
          ],
        },
        method: [
          py('secret', 'echo_secret', { key: 'token' }, { secrets: ['vault'] }),
          py('no-secret-scope', 'echo_secret', { key: 'token' }),
          py('structured', 'structured', {}),
          py('not-json', 'not_json', {}),
          { ...py('substituted', 'add', { a: '${greeting}', b: ' world' }), type: 'action' },
        ],
      });
      assert.equal(journal.status, 'completed', journal.faultline.reason);
      const before = journal.steady_states.before!;
      assert.equal(before.steady_state_met, true, JSON.stringify(before.probes));
      assert.deepEqual(
        before.probes.map((p) => p.output),
        [42, 'hello'],
      );
      const out = Object.fromEntries(journal.run.map((r) => [r.name, r.output]));
      assert.equal(out['secret'], 's3cr3t', 'the secrets of the scopes the provider names');
      assert.equal(out['no-secret-scope'], null, 'no scope named: no secrets passed');
      assert.deepEqual(out['structured'], {
        list: [1, 2.5, 'three', null, true],
        nested: { k: 'v' },
        obj: 'object',
      });
      assert.equal(
        out['not-json'],
        '{1, 2}',
        "a value JSON cannot hold is its repr(), as Chaos Toolkit's journal",
      );
      assert.equal(out['substituted'], 'hello world');
    });

    it('an exception fails the activity with its type and message; a timeout ends the call', async () => {
      const journal = await run({
        title: 'python failures',
        description: 'd',
        method: [
          { ...py('boom', 'kaboom', { message: 'the database is on fire' }), type: 'action' },
        ],
      });
      const [boom] = journal.run;
      const timedOut = await run({
        title: 'python timeout',
        description: 'd',
        method: [py('slow', 'sleep_then', { seconds: 30 }, { timeout: 0.5 })],
      });
      const [slow] = timedOut.run;
      assert.equal(boom!.status, 'failed');
      assert.match(JSON.stringify(boom!.exception), /RuntimeError: the database is on fire/);
      assert.equal(slow!.status, 'failed');
      assert.match(JSON.stringify(slow!.exception), /did not return within 0.5 s/);
      assert.ok(slow!.duration < 10, `ended at its timeout (${slow!.duration} s)`);
    });

    it('an interrupt mid-call ends the Python process and keeps the interrupted activity in the journal', async () => {
      const marker = join(dir, 'python.pid');
      const stop = new AbortController();
      const running = run(
        {
          title: 'python interrupted',
          description: 'd',
          method: [{ ...py('long', 'sleep_then', { seconds: 60, marker }), type: 'action' }],
        },
        stop.signal,
      );
      await waitFor(
        'the Python call to start',
        async () => existsSync(marker) && (await readFile(marker, 'utf8')).length > 0,
      );
      const pid = Number(await readFile(marker, 'utf8'));
      stop.abort(new Error('SIGINT'));
      const journal = await running;
      assert.equal(journal.status, 'interrupted');
      assert.equal(journal.run[0]?.name, 'long', 'the interrupted activity is in the journal');
      await waitFor('the Python process to be gone', async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
    });

    it("the chaos CLI's own os.path.exists fixtures run end to end: held, then deviated when the method removes the file", async () => {
      const work = join(dir, 'cli');
      await mkdir(join(work, 'tests', 'fixtures'), { recursive: true });
      await writeFile(join(work, 'tests', 'conftest.py'), '');
      await writeFile(join(work, 'tests', 'fixtures', 'dummy.txt'), 'x');
      const cli = async (file: string): Promise<{ code: number | null; out: string }> => {
        await copyFile(join(CLI_FIXTURES, file), join(work, file));
        const child = spawn(
          process.execPath,
          entryArgs('cli/main', 'run', file, '--journal', `${file}.journal.json`),
          {
            cwd: work,
            env: { ...process.env, FAULTLINE_STATE_DIR: join(dir, 'state') },
          },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.stderr.on('data', (d: Buffer) => (out += d));
        const [code] = (await once(child, 'close')) as [number | null];
        return { code, out };
      };
      const held = await cli('check-file-exists.json');
      assert.equal(held.code, 0, held.out);
      const deviated = await cli('check-file-exists-deviated.json');
      assert.equal(deviated.code, 1, deviated.out);
      assert.equal(existsSync(join(work, 'tests', 'fixtures', 'dummy.txt')), false);
      const journal = JSON.parse(
        await readFile(join(work, 'check-file-exists-deviated.json.journal.json'), 'utf8'),
      ) as Journal;
      assert.equal(journal.deviated, true);
      assert.equal(journal.steady_states.after?.probes[0]?.output, false);
    });

    it('--dry actions and --dry probes: the chosen steps are journaled unrun, and the verdict is inconclusive (4), never held', async () => {
      const work = join(dir, 'dry');
      await mkdir(join(work, 'tests'), { recursive: true });
      await writeFile(join(work, 'tests', 'conftest.py'), '');
      await copyFile(join(CLI_FIXTURES, 'check-file-exists-deviated.json'), join(work, 'x.json'));
      await mkdir(join(work, 'tests', 'fixtures'), { recursive: true });
      await writeFile(join(work, 'tests', 'fixtures', 'dummy.txt'), 'x');
      for (const mode of ['actions', 'probes']) {
        const child = spawn(
          process.execPath,
          entryArgs('cli/main', 'run', 'x.json', '--dry', mode, '--journal', `${mode}.json`),
          { cwd: work, env: { ...process.env, FAULTLINE_STATE_DIR: join(dir, 'state') } },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.stderr.on('data', (d: Buffer) => (out += d));
        const [code] = (await once(child, 'close')) as [number | null];
        assert.equal(code, 4, `${mode}: ${out}`);
        const journal = JSON.parse(await readFile(join(work, `${mode}.json`), 'utf8')) as Journal;
        assert.match(journal.faultline.reason ?? '', new RegExp(`a dry run \\(--dry ${mode}\\)`));
        assert.equal(journal.run[0]?.name, 'remove-file', 'the action is journaled');
        if (mode === 'actions') {
          assert.equal(journal.run[0]?.output, null, 'and not run');
          assert.ok(existsSync(join(work, 'tests', 'fixtures', 'dummy.txt')), 'rm did not run');
        }
      }
      // --dry probes let the action run (rm): the probes saw nothing, so nothing deviated.
      assert.equal(existsSync(join(work, 'tests', 'fixtures', 'dummy.txt')), false);
    });

    it('dynamic configuration: probes as configuration values run first, in order, each seeing the ones before; --var wins; a failing one is located', async () => {
      const marker = join(dir, 'dynamic-marker');
      await writeFile(marker, '');
      const journal = await run({
        title: 'dynamic ${answer}',
        description: 'd',
        configuration: {
          base: 40,
          answer: {
            type: 'probe',
            name: 'compute',
            provider: {
              type: 'python',
              module: 'flpyfixture',
              func: 'add',
              arguments: { a: '${base}', b: 2 },
            },
          },
          present: {
            type: 'probe',
            provider: {
              type: 'python',
              module: 'os.path',
              func: 'exists',
              arguments: { path: marker },
            },
          },
          word: {
            type: 'probe',
            provider: { type: 'process', path: 'printf', arguments: ['dyn'] },
          },
        },
        'steady-state-hypothesis': {
          title: 'h',
          probes: [
            { ...py('uses answer', 'add', { a: '${answer}', b: 0 }), tolerance: 42 },
            { ...py('uses present', 'echo_configuration', { key: 'present' }), tolerance: true },
          ],
        },
        method: [],
      });
      assert.equal(
        journal.steady_states.before?.steady_state_met,
        true,
        JSON.stringify(journal.steady_states.before),
      );
      assert.equal((journal.experiment as { title: string }).title, 'dynamic 42');

      const file = join(dir, 'dynamic-bad.json');
      await writeFile(
        file,
        JSON.stringify({
          title: 't',
          description: 'd',
          configuration: {
            broken: {
              type: 'probe',
              provider: {
                type: 'python',
                module: 'flpyfixture',
                func: 'kaboom',
                arguments: { message: 'no value' },
              },
            },
          },
          method: [],
        }),
      );
      await assert.rejects(readPlan(file, { env }), (err: unknown) => {
        const issues = (err as { issues: { path: string; message: string }[] }).issues;
        assert.ok(
          issues.some(
            (i) => i.path === 'configuration.broken' && /RuntimeError: no value/.test(i.message),
          ),
          JSON.stringify(issues),
        );
        return true;
      });
      const overridden = await readPlan(file, { env, vars: { broken: 'given' } });
      assert.equal(overridden.format, 'chaostoolkit', '--var wins: the probe is not run');
    });

    it('a missing module names its package before anything runs (validate and run --dry-run alike)', async () => {
      const file = join(dir, 'k8s.json');
      await writeFile(
        file,
        JSON.stringify({
          title: 't',
          description: 'd',
          method: [
            {
              type: 'action',
              name: 'kill',
              provider: {
                type: 'python',
                module: 'chaosk8s.pod.actions',
                func: 'terminate_pods',
                arguments: { ns: 'shop' },
              },
            },
          ],
        }),
      );
      for (const argv of [
        ['validate', file],
        ['run', '--dry-run', file],
      ]) {
        const child = spawn(process.execPath, entryArgs('cli/main', ...argv), { cwd: dir });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d));
        const [code] = (await once(child, 'close')) as [number | null];
        assert.equal(code, 2, `${argv[0]}: ${err}`);
        assert.match(
          err,
          /could not find Python module 'chaosk8s.pod.actions' in activity 'kill'/,
          argv[0],
        );
        assert.match(err, /pip install chaostoolkit-kubernetes/, argv[0]);
        assert.doesNotMatch(err, /\n\s+at /);
      }
    });
  },
);

describe('chaosprometheus probes run natively (no Python package)', () => {
  let server: Server;
  let base: string;
  const seen: URL[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url);
      res.setHeader('content-type', 'application/json');
      if (url.searchParams.get('query') === 'bad(') {
        res.statusCode = 400;
        res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }));
        return;
      }
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.5'] }] },
        }),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('query and query_interval call the Prometheus API with their arguments; an error answer fails the probe', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-ctk-prom-'));
    try {
      const file = join(dir, 'prom.json');
      const prom = (name: string, func: string, args: Record<string, unknown>) => ({
        type: 'probe',
        name,
        provider: { type: 'python', module: 'chaosprometheus.probes', func, arguments: args },
      });
      await writeFile(
        file,
        JSON.stringify({
          title: 't',
          description: 'd',
          configuration: { prometheus_base_url: base },
          method: [
            prom('now', 'query', { query: 'up' }),
            prom('ago', 'query', { query: 'up', when: '2 minutes ago' }),
            prom('range', 'query_interval', {
              query: 'rate(x[1m])',
              start: '5 minutes ago',
              end: 'now',
              step: 5,
            }),
            prom('bad', 'query', { query: 'bad(' }),
          ],
        }),
      );
      const plan = await readPlan(file, { env: {} });
      const started = Date.now() / 1000;
      const journal = await runExperiment(plan, { journalPath: join(dir, 'j.json') });
      const [now, ago, range, bad] = journal.run;
      assert.equal((now!.output as { status: string }).status, 'success', 'the payload as is');
      assert.equal(seen[0]!.pathname, '/api/v1/query');
      assert.equal(seen[0]!.searchParams.get('time'), null);
      assert.equal(ago!.status, 'succeeded');
      const time = Number(seen[1]!.searchParams.get('time'));
      assert.ok(Math.abs(time - (started - 120)) < 30, `2 minutes ago: ${time} vs ${started}`);
      assert.equal(range!.status, 'succeeded');
      assert.equal(seen[2]!.pathname, '/api/v1/query_range');
      assert.equal(seen[2]!.searchParams.get('step'), '5');
      assert.ok(
        Number(seen[2]!.searchParams.get('end')) - Number(seen[2]!.searchParams.get('start')) > 290,
      );
      assert.equal(bad!.status, 'failed');
      assert.match(JSON.stringify(bad!.exception), /HTTP 400: parse error/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Chaos Toolkit's run flags and an https gate behind a self-signed certificate", () => {
  let dir: string;
  let server: ReturnType<typeof createHttpsServer>;
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-ctk-flags-'));
    // A certificate signed by a CA nobody trusts: the staging service of a team without a PKI.
    const { good } = certificateSet(createCa('untrusted test CA'), 'localhost');
    server = createHttpsServer({ key: good.key, cert: good.cert }, (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  const cli = async (argv: string[]): Promise<{ code: number | null; out: string }> => {
    const child = spawn(process.execPath, entryArgs('cli/main', ...argv), {
      cwd: dir,
      env: { ...process.env, FAULTLINE_STATE_DIR: join(dir, 'state') },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, out };
  };
  const gate = (verify: boolean | undefined) => ({
    title: 'gate',
    description: 'd',
    configuration: { expected: { type: 'env', key: 'FL_EXPECTED' }, count: 0 },
    'steady-state-hypothesis': {
      title: 'h',
      probes: [
        {
          type: 'probe',
          name: 'healthy',
          tolerance: 200,
          provider: {
            type: 'http',
            url,
            timeout: 5,
            ...(verify === undefined ? {} : { verify_tls: verify }),
          },
        },
        {
          type: 'probe',
          name: 'typed var',
          tolerance: 0,
          provider: {
            type: 'process',
            path: 'test',
            arguments: '${count} -eq 3 -a ${expected} = from-dotenv',
          },
        },
      ],
    },
    method: [],
  });

  it('verify_tls: false and --no-verify-tls pass a self-signed gate; without them it fails; --var k:int=, .env var files, --journal-path and a numeric --hypothesis-frequency are taken', async () => {
    await writeFile(join(dir, 'vars.env'), '# staging\nexport FL_EXPECTED="from-dotenv"\n');
    const flags = [
      '--var',
      'count:int=3',
      '--var-file',
      'vars.env',
      '--hypothesis-frequency',
      '0.5',
    ];
    await writeFile(join(dir, 'checked.json'), JSON.stringify(gate(undefined)));
    await writeFile(join(dir, 'unchecked.json'), JSON.stringify(gate(false)));
    const strict = await cli(['run', 'checked.json', ...flags, '--journal-path', 'strict.json']);
    assert.notEqual(strict.code, 0, `a certificate nobody trusts fails the gate: ${strict.out}`);
    const perProvider = await cli([
      'run',
      'unchecked.json',
      ...flags,
      '--journal-path',
      'provider.json',
    ]);
    assert.equal(perProvider.code, 0, perProvider.out);
    const flag = await cli([
      'run',
      'checked.json',
      ...flags,
      '--no-verify-tls',
      '--journal-path',
      'flag.json',
    ]);
    assert.equal(flag.code, 0, flag.out);
    const journal = JSON.parse(await readFile(join(dir, 'flag.json'), 'utf8')) as Journal;
    assert.equal(journal.steady_states.before?.steady_state_met, true);
    const bad = await cli(['run', 'checked.json', '--var', 'count:int=three']);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /"three" is not an integer/);
  });

  it('--settings: auths reach http providers by host:port; its controls are reported as not run', async () => {
    const seen: (string | undefined)[] = [];
    const api = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.statusCode = req.headers.authorization === 'Bearer a1234' ? 200 : 401;
      res.end();
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    try {
      const port = (api.address() as AddressInfo).port;
      await writeFile(
        join(dir, 'settings.yaml'),
        `auths:\n  127.0.0.1:${port}:\n    type: bearer\n    value: a1234\ncontrols:\n  my-control:\n    provider:\n      type: python\n      module: chaosaddons.controls.safeguards\n`,
      );
      await writeFile(
        join(dir, 'auth.json'),
        JSON.stringify({
          title: 't',
          description: 'd',
          'steady-state-hypothesis': {
            title: 'h',
            probes: [
              {
                type: 'probe',
                name: 'authorized',
                tolerance: 200,
                provider: { type: 'http', url: `http://127.0.0.1:${port}/` },
              },
            ],
          },
          method: [],
        }),
      );
      const without = await cli(['run', 'auth.json']);
      assert.notEqual(without.code, 0, without.out);
      const withSettings = await cli(['run', 'auth.json', '--settings', 'settings.yaml']);
      assert.equal(withSettings.code, 0, withSettings.out);
      assert.match(withSettings.out, /settings control "my-control" is not run/);
      assert.deepEqual(seen.slice(-1), ['Bearer a1234']);
    } finally {
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});
