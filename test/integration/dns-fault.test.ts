/**
 * The fault-injecting DNS resolver against real clients: Node's own `dns.promises.Resolver`
 * (c-ares) and `dig`, over UDP and TCP. The upstream is a second FaultResolver serving fixed
 * records (no network here), so forwarding is real too. Each fault is observed from the
 * client's side, removed, and proven gone by a query that succeeds again.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../helpers/services.js';
import { parseExperiment } from '../../src/run-plan/read-experiment.js';
import { planExperiment } from '../../src/run-plan/from-experiment.js';
import { runExperiment } from '../../src/runner/runner.js';
import { Resolver } from 'node:dns/promises';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, test } from 'node:test';
import { FaultResolver } from '../../src/engines/dns/resolver.js';
import { compilePatterns } from '../../src/engines/dns/pattern.js';
import { startDnsControlServer } from '../../src/engines/dns/control-api.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';
import { entryArgs } from '../helpers/entry.js';

const execFileAsync = promisify(execFile);

/** Tests that query with dig skip without it (with the install line), or fail in strict mode. */
const noDig = needTool(TOOLS.dig);

/** execFile, failing loudly (not as an empty answer) when the command is not installed. */
function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(command, args).catch((err: NodeJS.ErrnoException & { stdout?: string }) => {
    if (err.code === 'ENOENT')
      throw new Error(`${command} is not installed (Debian: apt-get install bind9-dnsutils)`);
    throw err;
  });
}

async function dig(
  port: number,
  name: string,
  ...flags: string[]
): Promise<{ status: string; answers: string[]; timedOut: boolean }> {
  const { stdout } = await run('dig', [
    `@127.0.0.1`,
    '-p',
    String(port),
    name,
    'A',
    '+time=1',
    '+tries=1',
    ...flags,
  ]).catch((err: Error & { stdout?: string }) => {
    if (err.stdout === undefined) throw err;
    return { stdout: err.stdout };
  });
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
  const answers = [...stdout.matchAll(/^\S+\s+\d+\s+IN\s+A\s+(\S+)$/gm)].map((m) => m[1]!);
  return { status, answers, timedOut: /timed out|no servers could be reached/.test(stdout) };
}

function client(port: number, timeout = 1500): Resolver {
  const resolver = new Resolver({ timeout, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return resolver;
}

describe('dns patterns', () => {
  test('exact names, * and ? wildcards, case and trailing dot ignored', () => {
    const m = compilePatterns(['db.internal', 'api.*', 'cache-?.svc']);
    assert.equal(m('DB.internal.'), true);
    assert.equal(m('api.example.com'), true);
    assert.equal(m('cache-1.svc'), true);
    assert.equal(m('cache-12.svc'), false);
    assert.equal(m('other.internal'), false);
    assert.equal(compilePatterns(undefined)('anything'), true);
  });
});

describe('FaultResolver', () => {
  let upstream: FaultResolver;
  let resolver: FaultResolver;

  before(async () => {
    upstream = new FaultResolver({
      records: { 'db.internal': ['10.0.0.5'], 'api.internal': ['10.0.0.6', 'fd00::6'] },
      upstream: false,
    });
    await upstream.start();
    resolver = new FaultResolver({
      upstream: upstream.listen,
      records: { 'local.test': ['192.0.2.1'] },
    });
    await resolver.start();
  });
  // A test that fails between addRule and removeRule must not leave its rule to fail the next
  // ones (a failed dns-error test once took six more with it).
  afterEach(() => resolver.clearRules());
  after(async () => {
    await resolver.close();
    await upstream.close();
  });

  test('answers fixed records and forwards the rest to its upstream, over UDP and TCP', async (t) => {
    if (noDig) return t.skip(noDig);
    const c = client(resolver.address.port);
    assert.deepEqual(await c.resolve4('local.test'), ['192.0.2.1']);
    assert.deepEqual(await c.resolve4('db.internal'), ['10.0.0.5']);
    assert.deepEqual(await c.resolve6('api.internal'), ['fd00::6']);
    const tcp = await dig(resolver.address.port, 'api.internal', '+tcp');
    assert.equal(tcp.status, 'NOERROR');
    assert.deepEqual(tcp.answers, ['10.0.0.6']);
    await assert.rejects(
      c.resolve4('unknown.internal'),
      { code: 'ESERVFAIL' },
      'the stub upstream has no such name and nowhere to ask',
    );
  });

  for (const [rcode, nodeCode, digStatus] of [
    ['nxdomain', 'ENOTFOUND', 'NXDOMAIN'],
    ['servfail', 'ESERVFAIL', 'SERVFAIL'],
    ['refused', 'EREFUSED', 'REFUSED'],
  ] as const) {
    test(`dns-error ${rcode}: matching names fail, others resolve, removal restores`, async (t) => {
      if (noDig) return t.skip(noDig);
      const c = client(resolver.address.port);
      resolver.addRule({
        id: `e-${rcode}`,
        kind: 'error',
        rcode,
        patterns: ['db.*'],
        expiresIn: 60,
      });
      await assert.rejects(c.resolve4('db.internal'), { code: nodeCode });
      assert.equal((await dig(resolver.address.port, 'db.internal')).status, digStatus);
      assert.equal((await dig(resolver.address.port, 'db.internal', '+tcp')).status, digStatus);
      assert.deepEqual(
        await c.resolve4('api.internal'),
        ['10.0.0.6'],
        'a name outside the patterns is untouched',
      );
      assert.equal(
        resolver.rule(`e-${rcode}`)?.queries,
        3,
        'the rule counts the queries it touched',
      );
      assert.equal(resolver.removeRule(`e-${rcode}`), true);
      assert.deepEqual(await c.resolve4('db.internal'), ['10.0.0.5']);
      assert.equal((await dig(resolver.address.port, 'db.internal', '+tcp')).status, 'NOERROR');
      assert.equal(resolver.queriesOf(`e-${rcode}`), 3, 'the count survives removal');
    });
  }

  test('dns-error timeout: no answer at all (UDP and TCP), then answers again', async (t) => {
    if (noDig) return t.skip(noDig);
    const c = client(resolver.address.port, 400);
    resolver.addRule({
      id: 'silent',
      kind: 'error',
      rcode: 'timeout',
      patterns: ['db.internal'],
      expiresIn: 60,
    });
    await assert.rejects(c.resolve4('db.internal'), { code: 'ETIMEOUT' });
    assert.equal((await dig(resolver.address.port, 'db.internal')).timedOut, true);
    assert.equal((await dig(resolver.address.port, 'db.internal', '+tcp')).timedOut, true);
    resolver.removeRule('silent');
    assert.deepEqual(await c.resolve4('db.internal'), ['10.0.0.5']);
  });

  test('dns-delay: answers arrive late, then on time again', async () => {
    const c = client(resolver.address.port, 5000);
    const time = async (): Promise<number> => {
      const started = performance.now();
      assert.deepEqual(await c.resolve4('db.internal'), ['10.0.0.5']);
      return performance.now() - started;
    };
    resolver.addRule({ id: 'slow', kind: 'delay', delayMs: 800, expiresIn: 60 });
    assert.ok((await time()) >= 780, 'the answer waited for the delay');
    resolver.removeRule('slow');
    assert.ok((await time()) < 700, 'without the rule the answer is quick');
  });

  test('a rule ends by itself at its lease', async () => {
    const c = client(resolver.address.port);
    resolver.addRule({ id: 'short', kind: 'error', rcode: 'nxdomain', expiresIn: 0.5 });
    await assert.rejects(c.resolve4('db.internal'), { code: 'ENOTFOUND' });
    await waitFor('the rule to end at its lease', () => resolver.rule('short') === undefined, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    assert.deepEqual(await c.resolve4('db.internal'), ['10.0.0.5']);
  });

  test('a rule without a lease is refused', () => {
    assert.throws(() => resolver.addRule({ id: 'forever', kind: 'error', expiresIn: 0 }), {
      code: 'E_BAD_REQUEST',
    });
  });

  test('an unreachable upstream answers SERVFAIL, not silence', async () => {
    const lost = new FaultResolver({ upstream: '127.0.0.1:9', upstreamTimeoutMs: 300 });
    await lost.start();
    try {
      await assert.rejects(client(lost.address.port, 5000).resolve4('nothing.example'), {
        code: 'ESERVFAIL',
      });
    } finally {
      await lost.close();
    }
  });
});

describe('dns-error through the runner (dig as the service)', { skip: noDig }, () => {
  let dir: string;
  let upstream: FaultResolver;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-dns-run-'));
    upstream = new FaultResolver({ records: { 'db.internal': ['10.0.0.5'] }, upstream: false });
    await upstream.start();
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('NXDOMAIN during the fault, answers before and after, queries counted, rule gone', async () => {
    const port = await freePort();
    const dig = (name: string): string[] => [
      'dig',
      '@127.0.0.1',
      '-p',
      String(port),
      name,
      'A',
      '+time=2',
      '+tries=1',
    ];
    const doc = {
      title: 'the service survives NXDOMAIN for its database',
      targets: { dns: { type: 'dns', listen: `127.0.0.1:${port}`, upstream: upstream.listen } },
      steadyState: {
        probes: [
          {
            name: 'resolves',
            command: { run: dig('db.internal'), timeout: '10s' },
            expect: { exitCode: 0, stdout: { contains: '10.0.0.5' } },
          },
        ],
      },
      method: [
        {
          fault: 'dns-error',
          target: 'dns',
          rcode: 'nxdomain',
          patterns: ['db.*'],
          duration: '3s',
          name: 'no-db',
        },
        {
          probe: {
            name: 'during',
            command: { run: dig('db.internal'), timeout: '10s' },
            expect: { stdout: { contains: 'status: NXDOMAIN' } },
          },
        },
      ],
      runtime: { hypothesis: 'before-method-only' },
      safety: { maxDuration: '60s' },
    };
    const file = join(dir, 'experiment.yaml');
    const plan = planExperiment(parseExperiment(stringify(doc), file), { file, env: {} });
    const journal = await runExperiment(plan, { journalPath: join(dir, 'journal.json') });
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    const fault = journal.faultline.faults[0]!;
    assert.equal(fault.state, 'removed');
    assert.ok((fault.touched?.requests ?? 0) >= 1, 'the rule counted the query it answered');
    assert.deepEqual(journal.faultline.verification, [{ fault: 'no-db', gone: true }]);
    // The resolver was the run's: it is gone with the run.
    assert.equal((await digAt(port, 'db.internal')).status, 'NONE');
  });
});

async function digAt(port: number, name: string): Promise<{ status: string }> {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    name,
    '+time=1',
    '+tries=1',
  ]).catch((err: Error & { stdout?: string }) => {
    if (err.stdout === undefined) throw err;
    return { stdout: err.stdout };
  });
  return { status: /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE' };
}

/** Starts `faultline dns serve` with `args`; resolves with the child and its API's URL. */
async function startDnsServe(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ReturnType<typeof spawn>; api: string }> {
  const child = spawn(process.execPath, entryArgs('cli/main', 'dns', 'serve', ...args), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  const api = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /control API on (http:\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, api };
}

describe('faultline dns serve', () => {
  test('serves records over UDP and TCP, takes rules over its API, and they end at removal', async (t) => {
    if (noDig) return t.skip(noDig);
    const port = await freePort();
    const { child, api } = await startDnsServe([
      '--listen',
      `127.0.0.1:${port}`,
      '--api',
      '127.0.0.1:0',
      '--record',
      'db.internal=10.0.0.5',
    ]);
    try {
      assert.equal((await dig(port, 'db.internal', '+tcp')).answers[0], '10.0.0.5');
      const created = await fetch(`${api}/rules`, {
        method: 'POST',
        body: JSON.stringify({
          id: 'x',
          type: 'error',
          rcode: 'refused',
          patterns: ['db.*'],
          expires_in: 60,
        }),
      });
      assert.equal(created.status, 201);
      assert.equal((await dig(port, 'db.internal')).status, 'REFUSED');
      const rules = (await (await fetch(`${api}/rules`)).json()) as {
        id: string;
        queries: number;
      }[];
      assert.deepEqual(
        rules.map((r) => [r.id, r.queries]),
        [['x', 1]],
      );
      assert.equal((await fetch(`${api}/rules/x`, { method: 'DELETE' })).status, 204);
      assert.equal((await dig(port, 'db.internal')).status, 'NOERROR');
      const refused = await fetch(`${api}/rules`, {
        method: 'POST',
        body: JSON.stringify({ type: 'error' }),
      });
      assert.equal(refused.status, 400, 'a rule without a lease is refused');
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('the DNS control API refuses browsers and takes a token', () => {
  const rule = JSON.stringify({ id: 'csrf', type: 'error', rcode: 'servfail', expires_in: 60 });

  test('faultline dns serve --token: a browser POST is refused and adds nothing; the token is required', async (t) => {
    if (noDig) return t.skip(noDig);
    const port = await freePort();
    const { child, api } = await startDnsServe([
      '--listen',
      `127.0.0.1:${port}`,
      '--api',
      '127.0.0.1:0',
      '--token',
      't0ken',
    ]);
    try {
      const auth = { authorization: 'Bearer t0ken' };
      const browser = await fetch(`${api}/rules`, {
        method: 'POST',
        body: rule,
        headers: { ...auth, origin: 'http://evil.example' },
      });
      assert.equal(browser.status, 403);
      assert.equal(((await browser.json()) as { code: string }).code, 'E_FORBIDDEN');
      assert.deepEqual(
        await (await fetch(`${api}/rules`, { headers: auth })).json(),
        [],
        'the rule was not added',
      );
      assert.equal(
        (await fetch(`${api}/rules`, { method: 'POST', body: rule })).status,
        401,
        'no token',
      );
      assert.equal(
        (await fetch(`${api}/rules`, { headers: { authorization: 'Bearer nope' } })).status,
        401,
        'wrong token',
      );
      assert.equal(
        (await fetch(`${api}/rules`, { method: 'POST', body: rule, headers: auth })).status,
        201,
      );
      assert.equal((await digAt(port, 'db.internal')).status, 'SERVFAIL');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('FAULTLINE_DNS_TOKEN sets the token too', async () => {
    const port = await freePort();
    const { child, api } = await startDnsServe(
      ['--listen', `127.0.0.1:${port}`, '--api', '127.0.0.1:0'],
      { ...process.env, FAULTLINE_DNS_TOKEN: 'from-env' },
    );
    try {
      assert.equal((await fetch(`${api}/stats`)).status, 401);
      assert.equal(
        (await fetch(`${api}/stats`, { headers: { authorization: 'Bearer from-env' } })).status,
        200,
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('startDnsControlServer without a token: browser markers refused, a malformed %-escape is a 400', async () => {
    const resolver = new FaultResolver({
      records: { 'db.internal': ['10.0.0.5'] },
      upstream: false,
    });
    await resolver.start();
    const control = await startDnsControlServer(resolver);
    try {
      const refused: Record<string, string>[] = [
        { origin: 'http://evil.example' },
        { 'sec-fetch-site': 'cross-site' },
        { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' },
        { 'content-type': 'text/plain', referer: 'http://evil.example/' },
      ];
      for (const headers of refused) {
        const res = await fetch(`${control.url}/rules`, { method: 'POST', body: rule, headers });
        assert.equal(res.status, 403, JSON.stringify(headers));
      }
      assert.deepEqual(resolver.rules, [], 'no rule was added');
      assert.equal((await fetch(`${control.url}/rules/%ZZ`, { method: 'DELETE' })).status, 400);
      assert.equal((await fetch(`${control.url}/rules`, { method: 'PUT' })).status, 405);
      assert.equal((await fetch(`${control.url}/nowhere`)).status, 404);
      assert.equal(
        (await fetch(`${control.url}/rules`, { method: 'POST', body: rule })).status,
        201,
      );
      assert.equal((await fetch(`${control.url}/rules/csrf`)).status, 200);
    } finally {
      await control.close();
      await resolver.close();
    }
  });

  test('faultline dns serve --allow-origin, --allow-host: the Host must name the API, an allowed page gets in', async () => {
    const port = await freePort();
    const { child, api } = await startDnsServe([
      '--listen',
      `127.0.0.1:${port}`,
      '--api',
      '127.0.0.1:0',
      '--allow-origin',
      'http://dash.test:3000',
      '--allow-host',
      'dns-api.test',
    ]);
    const apiPort = Number(new URL(api).port);
    // Raw http.request: fetch does not let a caller set Host.
    const send = (headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; cors: string | undefined }>((resolve, reject) => {
        const req = httpRequest(
          `${api}/rules`,
          { method: body ? 'POST' : 'GET', headers },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                cors: res.headers['access-control-allow-origin'] as string | undefined,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      assert.equal(
        (await send({ host: `rebound.evil:${apiPort}` }, rule)).status,
        403,
        'rebinding',
      );
      // A forwarder in between (docker -p, kubectl port-forward) sends its own port: allowed.
      assert.equal((await send({ host: `localhost:${apiPort + 1}` })).status, 200, 'another port');
      assert.equal((await send({ host: `127.0.0.2:${apiPort}` })).status, 403, 'another address');
      assert.equal((await send({ host: `dns-api.test:${apiPort}` })).status, 200, '--allow-host');
      assert.equal((await send({ host: `localhost:${apiPort}` })).status, 200);
      assert.equal((await send({ 'sec-fetch-site': 'same-site' }, rule)).status, 403);
      assert.equal((await send({ 'sec-fetch-site': 'none' })).status, 200);
      assert.equal((await send({ origin: 'http://dash.test:3001' }, rule)).status, 403);
      const page = await send({ origin: 'http://dash.test:3000', 'sec-fetch-site': 'cross-site' });
      assert.equal(page.status, 200);
      assert.equal(page.cors, 'http://dash.test:3000');
      assert.equal(
        (await send({ 'content-type': 'text/plain' }, 'type=error')).status,
        400,
        'not JSON',
      );
      assert.deepEqual(
        await (await fetch(`${api}/rules`)).json(),
        [],
        'no refused request added a rule',
      );
    } finally {
      child.kill('SIGTERM');
    }
  });
});
