// `faultline proxy serve` as a real child process: a populate file with toxics, the typed
// remote client against it, bad input with exit code 2 and every problem listed, a port in
// use, and SIGTERM stopping it cleanly with no proxy left listening.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { ProxyApiClient, RemoteError } from '../../src/index.js';
import { watchOutput } from '../helpers/wait-for.js';
import { entryArgs } from '../helpers/entry.js';

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

function run(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, entryArgs('cli/main', ...args), {
    stdio: 'pipe',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

/** Starts the server and resolves once it printed the URL it listens on. */
async function serve(args: string[]): Promise<Running> {
  const child = run(['proxy', 'serve', '--port', '0', ...args]);
  const out = watchOutput(child.stdout);
  const err = watchOutput(child.stderr);
  const both = watchOutput(child.stdout, child.stderr);
  const [, url] = await both.waitFor(/API on (http:\/\/\S+)/, 'proxy serve to listen', { child });
  return { child, url: url!, stdout: out.text, stderr: err.text };
}

/** Runs the CLI to completion; resolves with its exit code and output. */
async function complete(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = run(args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('faultline proxy serve (child process)', () => {
  let echo: Server;
  let echoAddress: string;
  let dir: string;

  before(async () => {
    echo = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    echoAddress = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'faultline-serve-'));
  });
  after(async () => {
    echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function roundTrip(port: number): Promise<number> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const start = performance.now();
    socket.write('ping');
    await once(socket, 'data');
    const ms = performance.now() - start;
    socket.destroy();
    return ms;
  }

  it('creates the proxies and toxics of a populate file, serves the API, and stops cleanly on SIGTERM', async () => {
    const config = join(dir, 'proxies.json');
    await writeFile(
      config,
      JSON.stringify([
        {
          name: 'echo',
          listen: '127.0.0.1:0',
          upstream: echoAddress,
          toxics: [{ type: 'latency', attributes: { latency: 120 } }],
        },
      ]),
    );
    const server = await serve(['--config', config]);
    try {
      const client = new ProxyApiClient({ url: server.url });
      assert.match(await client.version(), /\d+\.\d+\.\d+/);
      const proxy = await client.getProxy('echo');
      assert.equal(proxy.toxics.length, 1);
      const port = Number(proxy.listen.split(':').at(-1));
      const slow = await roundTrip(port);
      assert.ok(
        slow >= 120,
        `round trip with the configured 120 ms latency: ${slow.toFixed(1)} ms`,
      );

      await client.removeToxic('echo', 'latency_downstream');
      const toxic = await client.addToxic('echo', {
        type: 'latency',
        stream: 'upstream',
        attributes: { latency: 60 },
        expires_in: 60,
      });
      assert.ok(toxic.expires_at, 'faultline answers the lease deadline');
      assert.ok((await roundTrip(port)) >= 60);

      const missing = await client.getProxy('nope').catch((e: unknown) => e);
      assert.ok(missing instanceof RemoteError);
      assert.equal(missing.code, 'E_NOT_FOUND');
      assert.equal(missing.status, 404);

      const bad = await client
        .addToxicJson('echo', { type: 'latency', attributes: { latency: -1, jitter: 'x' } })
        .catch((e: unknown) => e);
      assert.ok(bad instanceof RemoteError);
      assert.equal(bad.status, 400);
      assert.equal(bad.issues.length, 2, 'both bad attributes are reported');

      server.child.kill('SIGTERM');
      const [code] = (await once(server.child, 'exit')) as [number | null];
      assert.equal(code, 0, server.stderr());
      // Nothing listens any more: no proxy outlives the server.
      const refused = connect(port, '127.0.0.1');
      const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
      assert.equal(error.code, 'ECONNREFUSED');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('rejects a bad populate file with exit code 2, every problem located, and no stack trace', async () => {
    const config = join(dir, 'bad.json');
    await writeFile(
      config,
      JSON.stringify([
        { name: 'a', upstream: echoAddress, toxics: [{ type: 'latncy' }] },
        {
          name: 'b',
          upstream: 'nowhere',
          toxics: [{ type: 'latency', attributes: { latency: -5 } }],
        },
      ]),
    );
    const result = await complete(['proxy', 'serve', '--port', '0', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /\[0\]\.toxics\[0\]\.type/);
    assert.match(result.stderr, /latency/, 'suggests the toxic type meant');
    assert.match(result.stderr, /\[1\]\.upstream/);
    assert.match(result.stderr, /\[1\]\.toxics\[0\]\.attributes\.latency/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');

    const invalidJson = join(dir, 'invalid.json');
    await writeFile(invalidJson, '[{"name": "a",');
    const broken = await complete(['proxy', 'serve', '--port', '0', '--config', invalidJson]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /not valid JSON/);
  });

  it('reports a port in use with exit code 2', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const port = (taken.address() as AddressInfo).port;
      const result = await complete(['proxy', 'serve', '--port', String(port)]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /address already in use/);
    } finally {
      taken.close();
    }
  });

  it('refuses a non-loopback API address without --allow-remote-listen', async () => {
    const result = await complete(['proxy', 'serve', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /non-loopback/);
  });

  it('--allow-origin lets one page in; --allow-host accepts a name; the rest of the browser rules hold', async () => {
    const running = await serve([
      '--allow-origin',
      'http://dash.test:3000',
      '--allow-host',
      'chaos.test',
    ]);
    const port = Number(new URL(running.url).port);
    // Raw http.request: fetch does not let a caller set Host.
    const send = (method: string, headers: Record<string, string>) =>
      new Promise<{ status: number; cors: unknown }>((resolve, reject) => {
        const req = httpRequest(`${running.url}/reset`, { method, headers }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              cors: res.headers['access-control-allow-origin'],
            }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const page = await send('POST', {
        origin: 'http://dash.test:3000',
        'user-agent': 'Mozilla/5.0',
      });
      assert.equal(page.status, 204);
      assert.equal(page.cors, 'http://dash.test:3000');
      const preflight = await send('OPTIONS', {
        origin: 'http://dash.test:3000',
        'access-control-request-method': 'POST',
      });
      assert.equal(preflight.status, 204);
      assert.equal((await send('POST', { origin: 'http://evil.example' })).status, 403);
      assert.equal((await send('POST', { host: `chaos.test:${port}` })).status, 204);
      assert.equal((await send('POST', { host: `evil.test:${port}` })).status, 403);
      assert.equal((await send('POST', { 'sec-fetch-site': 'cross-site' })).status, 403);
    } finally {
      running.child.kill('SIGTERM');
      await once(running.child, 'exit');
    }
  });

  it('tells an unreachable server apart from a refused request', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const error = await new ProxyApiClient({ url: `http://127.0.0.1:${port}` })
      .listProxies()
      .catch((e: unknown) => e);
    assert.ok(error instanceof RemoteError);
    assert.equal(error.code, 'E_IO');
  });
});
