// The control API driven by toxiproxy-node-client, a real Toxiproxy client nobody here wrote,
// plus raw HTTP for statuses and error bodies the client does not expose.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Toxiproxy, type ICreateToxicBody, type Latency } from 'toxiproxy-node-client';
import { startControlServer, type ControlServer } from '../../src/engines/proxy/api/server.js';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { VERSION } from '../../src/version.js';
import { waitFor } from '../helpers/wait-for.js';

describe('control API with toxiproxy-node-client', () => {
  let echo: Server;
  let echoPort: number;
  let collection: ProxyCollection;
  let api: ControlServer;
  let client: Toxiproxy;
  const sockets: Socket[] = [];

  before(async () => {
    echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    echoPort = (echo.address() as AddressInfo).port;
    collection = new ProxyCollection({ seed: 1 });
    api = await startControlServer({ collection, port: 0 });
    client = new Toxiproxy(api.url);
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await api.close();
    await collection.close();
    echo.close();
  });

  const upstream = (): string => `127.0.0.1:${echoPort}`;
  const portOf = (listen: string): number => Number(listen.slice(listen.lastIndexOf(':') + 1));

  async function openEcho(port: number): Promise<Socket> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    sockets.push(socket);
    await once(socket, 'connect');
    return socket;
  }

  async function roundTrip(socket: Socket): Promise<number> {
    const start = performance.now();
    socket.write('ping');
    await once(socket, 'data');
    return performance.now() - start;
  }

  async function raw(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string; json: () => unknown }> {
    const res = await fetch(`${api.url}${path}`, { method, body, headers });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as unknown };
  }

  it('answers the version', async () => {
    const version = await client.getVersion();
    assert.equal(JSON.parse(String(version)).version, VERSION);
  });

  it('creates, lists, gets, updates and removes proxies', async () => {
    const proxy = await client.createProxy({
      name: 'crud',
      listen: '127.0.0.1:0',
      upstream: upstream(),
    });
    assert.equal(proxy.name, 'crud');
    assert.ok(portOf(proxy.listen) > 0, 'listen reports the real bound port');
    const all = await client.getAll();
    assert.ok(all['crud']);
    const fetched = await client.get('crud');
    assert.equal(fetched.upstream, upstream());

    const disabled = await fetched.update({
      enabled: false,
      listen: fetched.listen,
      upstream: fetched.upstream,
    });
    assert.equal(disabled.enabled, false);
    const refused = connect(portOf(proxy.listen), '127.0.0.1');
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');

    const enabled = await disabled.update({
      enabled: true,
      listen: disabled.listen,
      upstream: disabled.upstream,
    });
    assert.equal(enabled.enabled, true);
    assert.equal(portOf(enabled.listen), portOf(proxy.listen), 'a re-enabled proxy keeps its port');
    const socket = await openEcho(portOf(enabled.listen));
    assert.ok((await roundTrip(socket)) < 200);

    await enabled.remove();
    await assert.rejects(client.get('crud'), /404/);
  });

  it('adds, gets, updates and removes toxics, and they act on live traffic', async () => {
    const proxy = await client.createProxy({
      name: 'toxic',
      listen: '127.0.0.1:0',
      upstream: upstream(),
    });
    const socket = await openEcho(portOf(proxy.listen));
    assert.ok((await roundTrip(socket)) < 100);

    // The client's type wants a name; Toxiproxy's API does not (it defaults to <type>_<stream>).
    const body = {
      type: 'latency',
      attributes: { latency: 150, jitter: 0 },
      stream: 'downstream',
      toxicity: 1,
    } as ICreateToxicBody<Latency>;
    const toxic = await proxy.addToxic(body);
    assert.equal(toxic.name, 'latency_downstream');
    let rtt = await roundTrip(socket);
    assert.ok(rtt >= 149 && rtt < 600, `with 150 ms latency: ${rtt} ms`);

    const got = await proxy.getToxic<Latency>('latency_downstream');
    assert.equal(got.attributes.latency, 150);
    const updated = await got.update({
      name: got.name,
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: 300, jitter: 0 },
      toxicity: 1,
    });
    assert.equal(updated.attributes.latency, 300);
    rtt = await roundTrip(socket);
    assert.ok(rtt >= 299 && rtt < 800, `after the update to 300 ms: ${rtt} ms`);

    await updated.remove();
    rtt = await roundTrip(socket);
    assert.ok(rtt < 100, `after removal: ${rtt} ms`);
    await (await client.get('toxic')).remove();
  });

  it('populates (including an empty list) and resets', async () => {
    const empty = await client.populate([]);
    assert.deepEqual(empty, {});
    const populated = await client.populate([
      { name: 'pop-a', listen: '127.0.0.1:0', upstream: upstream() },
      { name: 'pop-b', listen: '127.0.0.1:0', upstream: upstream(), enabled: false },
    ]);
    assert.deepEqual(Object.keys(populated).sort(), ['pop-a', 'pop-b']);
    await populated['pop-a']!.addToxic({
      type: 'latency',
      attributes: { latency: 10, jitter: 0 },
      stream: 'downstream',
      toxicity: 1,
      name: 'l',
    });
    // Populating the same proxy again keeps it and its toxics.
    const again = await raw(
      'POST',
      '/populate',
      JSON.stringify([{ name: 'pop-a', listen: populated['pop-a']!.listen, upstream: upstream() }]),
    );
    assert.equal(again.status, 201);
    assert.equal((await raw('GET', '/proxies/pop-a/toxics')).json() instanceof Array, true);
    assert.equal(((await raw('GET', '/proxies/pop-a/toxics')).json() as unknown[]).length, 1);

    await client.reset();
    const after = (await raw('GET', '/proxies')).json() as Record<
      string,
      { enabled: boolean; toxics: unknown[] }
    >;
    assert.equal(after['pop-a']!.toxics.length, 0);
    assert.equal(after['pop-b']!.enabled, true, 'reset re-enables every proxy');
    await (await client.get('pop-a')).remove();
    await (await client.get('pop-b')).remove();
  });

  it('answers Toxiproxy statuses and JSON error bodies, and keeps serving', async () => {
    const created = await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'err', listen: '127.0.0.1:0', upstream: upstream() }),
    );
    assert.equal(created.status, 201);
    const listen = (created.json() as { listen: string }).listen;
    const socket = await openEcho(portOf(listen));

    const duplicate = await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'err', listen: '127.0.0.1:0', upstream: upstream() }),
    );
    assert.equal(duplicate.status, 409);
    assert.deepEqual(
      (duplicate.json() as { error: string; status: number }).error,
      'proxy already exists',
    );

    assert.equal((await raw('GET', '/proxies/missing')).status, 404);
    assert.equal(
      ((await raw('GET', '/proxies/missing')).json() as { error: string }).error,
      'proxy not found',
    );
    assert.equal((await raw('GET', '/proxies/err/toxics/missing')).status, 404);
    assert.equal((await raw('POST', '/proxies', '{"name":')).status, 400);
    assert.match(
      ((await raw('POST', '/proxies', '{"name":')).json() as { error: string }).error,
      /^bad request body/,
    );

    const missing = await raw('POST', '/proxies', JSON.stringify({ listen: '127.0.0.1:0' }));
    assert.equal(missing.status, 400);
    const issues = (missing.json() as { issues: Array<{ path: string }> }).issues
      .map((i) => i.path)
      .sort();
    assert.deepEqual(issues, ['name', 'upstream'], 'every problem in one answer');

    const unknownType = await raw(
      'POST',
      '/proxies/err/toxics',
      JSON.stringify({ type: 'latncy' }),
    );
    assert.equal(unknownType.status, 400);
    assert.equal(
      (unknownType.json() as { error: string; hint: string }).error,
      'invalid toxic type',
    );
    assert.equal((unknownType.json() as { hint: string }).hint, 'did you mean "latency"?');

    const negative = await raw(
      'POST',
      '/proxies/err/toxics',
      JSON.stringify({ type: 'latency', attributes: { latency: -5 }, toxicity: 2 }),
    );
    assert.equal(negative.status, 400);
    const paths = (negative.json() as { issues: Array<{ path: string }> }).issues
      .map((i) => i.path)
      .sort();
    assert.deepEqual(paths, ['attributes.latency', 'toxicity']);

    assert.equal(
      (await raw('POST', '/proxies', JSON.stringify({ name: 'a/b', upstream: upstream() }))).status,
      400,
    );
    assert.equal((await raw('PUT', '/proxies')).status, 405);
    assert.equal((await raw('GET', '/nowhere')).status, 404);
    const browser = await raw('GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0' });
    assert.equal(browser.status, 403);
    assert.equal(browser.text, 'User agent not allowed\n', "Toxiproxy's http.Error text");

    const inUse = await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'clash', listen, upstream: upstream() }),
    );
    assert.equal(inUse.status, 500);
    assert.match(
      (inUse.json() as { error: string }).error,
      /^listen tcp 127\.0\.0\.1:\d+: bind: address already in use$/,
    );

    const remote = await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'wide', listen: '0.0.0.0:0', upstream: upstream() }),
    );
    assert.equal(remote.status, 400, 'non-loopback listen needs --allow-remote-listen');

    const tooBig = await raw('POST', '/proxies', `{"name":"${'x'.repeat(1_100_000)}"}`);
    assert.equal(tooBig.status, 413);

    // Nothing above disturbed the existing proxy or its live connection.
    assert.ok((await roundTrip(socket)) < 100);
    assert.equal((await raw('GET', '/proxies/err')).status, 200);
    await raw('DELETE', '/proxies/err');
  });

  it('removes a toxic by itself when its lease runs out', async () => {
    await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'lease', listen: '127.0.0.1:0', upstream: upstream() }),
    );
    const added = await raw(
      'POST',
      '/proxies/lease/toxics',
      JSON.stringify({ type: 'latency', attributes: { latency: 100 }, expires_in: 0.3 }),
    );
    assert.equal(added.status, 200);
    assert.ok((added.json() as { expires_at?: string }).expires_at);
    const status = await waitFor(
      'the toxic to go at its lease',
      async () => {
        const { status } = await raw('GET', '/proxies/lease/toxics/latency_downstream');
        return status !== 200 && status;
      },
      { timeoutMs: 3_000 },
    );
    assert.equal(status, 404);
    await raw('DELETE', '/proxies/lease');
  });

  it('refuses a browser POST /reset (Origin, fetch metadata, rebound Host) and resets nothing', async () => {
    const created = await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'csrf', listen: '127.0.0.1:0', upstream: upstream() }),
    );
    assert.equal(created.status, 201);
    const toxic = JSON.stringify({ type: 'latency', attributes: { latency: 10 }, name: 'kept' });
    assert.equal((await raw('POST', '/proxies/csrf/toxics', toxic)).status, 200);
    const browsers: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      {
        origin: 'http://evil.example',
        'user-agent': 'Opera/9.80 (Windows NT 6.1) Presto/2.12.388',
      },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      { 'content-type': 'text/plain', referer: 'http://evil.example/' },
    ];
    for (const headers of browsers) {
      const res = await raw('POST', '/reset', '{}', headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal((res.json() as { code: string }).code, 'E_FORBIDDEN');
    }
    // fetch will not send a Host of its own: a rebound page's request, over plain HTTP.
    const rebound = await new Promise<number>((resolve, reject) => {
      const headers = { host: `evil.example:${api.port}` };
      const req = httpRequest(`${api.url}/reset`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound, 403, 'a non-loopback Host (DNS rebinding)');
    const toxics = (await raw('GET', '/proxies/csrf/toxics')).json() as Array<{ name: string }>;
    assert.deepEqual(
      toxics.map((t) => t.name),
      ['kept'],
      'nothing was reset',
    );
    // The Toxiproxy Go client before 2.5.0 posted /reset as text/plain: still a client.
    assert.equal((await raw('POST', '/reset', '', { 'content-type': 'text/plain' })).status, 204);
    assert.equal(((await raw('GET', '/proxies/csrf/toxics')).json() as unknown[]).length, 0);
    await raw('DELETE', '/proxies/csrf');
  });

  it('answers a malformed %-escape in a name with 400, not 500', async () => {
    for (const path of [
      '/proxies/%ZZ',
      '/proxies/%',
      '/proxies/%E0%A4%A',
      '/proxies/x/toxics/%ZZ',
    ]) {
      const res = await raw('GET', path);
      assert.equal(res.status, 400, path);
      assert.equal((res.json() as { code: string }).code, 'E_BAD_REQUEST');
    }
    assert.equal((await raw('GET', '/proxies')).status, 200);
  });

  it('requires the bearer token when one is configured', async () => {
    const guarded = await startControlServer({
      collection: new ProxyCollection(),
      port: 0,
      token: 's3cret',
    });
    try {
      assert.equal((await fetch(`${guarded.url}/proxies`)).status, 401);
      const ok = await fetch(`${guarded.url}/proxies`, {
        headers: { authorization: 'Bearer s3cret' },
      });
      assert.equal(ok.status, 200);
    } finally {
      await guarded.close();
    }
  });

  it('exposes live Prometheus metrics', async () => {
    const created = (
      await raw(
        'POST',
        '/proxies',
        JSON.stringify({ name: 'metrics', listen: '127.0.0.1:0', upstream: upstream() }),
      )
    ).json() as { listen: string };
    const socket = await openEcho(portOf(created.listen));
    await roundTrip(socket);
    const text = (await raw('GET', '/metrics')).text;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('toxiproxy_proxy_received_bytes_total{') &&
          l.includes('proxy="metrics"') &&
          l.includes('direction="upstream"'),
      );
    assert.ok(line, 'received bytes counted while the connection is still open');
    assert.ok(Number(line.split(' ').pop()) >= 4);
    assert.match(text, /faultline_proxy_connections_active\{[^}]*proxy="metrics"[^}]*\} 1/);
    await raw('DELETE', '/proxies/metrics');
  });
});
