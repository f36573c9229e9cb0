// The shared control-API server over real sockets: raw http.request where the exact headers
// matter (it sends no User-Agent, no fetch metadata), Node's fetch where a real client's
// defaults matter (it sends `Sec-Fetch-Mode: cors` and `text/plain` for a string body).
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { startJsonApiServer, type JsonApiServer } from './json-api-server.js';
import { hostMatcher, splitHost } from './request-guards.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** One request with exactly these headers (http.request adds only Host and framing). */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
  agent?: Agent,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = (): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('json-api-server', () => {
  let api: JsonApiServer;
  let guarded: JsonApiServer;
  const errors: unknown[] = [];
  let handled = 0;
  const items: unknown[] = [];

  const routes = [
    {
      method: 'GET',
      path: '/items',
      handler: () => {
        handled += 1;
        return { status: 200, body: items };
      },
    },
    {
      method: 'POST',
      path: '/items',
      handler: async (_: Record<string, string>, body: () => Promise<unknown>) => {
        const item = await body();
        items.push(item);
        return { status: 201, body: { item } };
      },
    },
    {
      method: 'GET',
      path: '/items/{id}',
      handler: ({ id }: Record<string, string>) => ({ status: 200, body: { id } }),
    },
    {
      method: 'GET',
      path: '/boom',
      handler: () => {
        throw new Error('kaboom');
      },
    },
    {
      method: 'GET',
      path: '/typed',
      handler: () => {
        const issues = [{ path: 'a.b', message: 'must be a number' }];
        throw new ValidationError('invalid thing', issues, { hint: 'fix a.b' });
      },
    },
    {
      method: 'GET',
      path: '/text',
      handler: () => ({ status: 200, text: { body: 'plain\n', contentType: 'text/plain' } }),
    },
  ];

  before(async () => {
    api = await startJsonApiServer({
      routes,
      maxBodyBytes: 1024,
      headers: () => ({ 'x-request-id': 'r1' }),
      onError: (err) => errors.push(err),
    });
    guarded = await startJsonApiServer({ routes, token: 's3cret' });
  });

  after(async () => {
    await api.close();
    await guarded.close();
  });

  it('splits Host headers and matches a wildcard bind against interface addresses', () => {
    assert.deepEqual(splitHost('[::1]:8474'), ['::1', 8474]);
    assert.deepEqual(splitHost('Example.Test'), ['example.test', undefined]);
    assert.deepEqual(splitHost('::1'), ['::1', undefined]);
    assert.equal(splitHost('a b:1'), undefined);
    assert.equal(splitHost('host:99999x'), undefined);
    const wildcard = hostMatcher('0.0.0.0');
    assert.equal(wildcard('127.0.0.1:8474'), true);
    assert.equal(wildcard('0.0.0.0:8474'), true);
    assert.equal(wildcard('evil.example:8474'), false);
    // A forwarder (docker -p 18474:8474, kubectl port-forward) sends its own port.
    assert.equal(wildcard('127.0.0.1:18474'), true, 'a loopback name at another port');
    assert.equal(hostMatcher('127.0.0.1')('localhost'), true, 'no port in Host');
    const named = hostMatcher('127.0.0.1', ['proxy.test:8474', 'any.test']);
    assert.equal(named('proxy.test:8474'), true);
    assert.equal(named('proxy.test:9000'), false, 'an --allow-host entry with a port is that port');
    assert.equal(named('proxy.test'), false, 'no port in Host is port 80');
    assert.equal(named('any.test:9000'), true, 'an --allow-host entry without a port: any port');
  });

  it('binds 127.0.0.1 on a free port by default', () => {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(api.port > 0);
  });

  it('answers a client that sends no User-Agent and no Origin', async () => {
    const res = await send(api.url, 'GET', '/items');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-request-id'], 'r1');
    assert.match(String(res.headers['content-type']), /^application\/json/);
  });

  it("answers Node's fetch (it sends Sec-Fetch-Mode: cors, and text/plain bodies)", async () => {
    assert.equal((await fetch(`${api.url}/items`)).status, 200);
    const posted = await fetch(`${api.url}/items`, { method: 'POST', body: '{"n":1}' });
    assert.equal(posted.status, 201);
    assert.deepEqual(await posted.json(), { item: { n: 1 } });
  });

  it('refuses an Origin not on the allow-list with 403 E_FORBIDDEN before the handler runs', async () => {
    const before = handled;
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${api.port}`]) {
      const res = await send(api.url, 'GET', '/items', { origin });
      assert.equal(res.status, 403, origin);
      assert.equal(res.json()['code'], 'E_FORBIDDEN');
      assert.match(String(res.json()['hint']), /--allow-origin/);
      assert.equal(res.headers['x-request-id'], 'r1', 'refusals carry the common headers');
    }
    const count = items.length;
    const post = await send(api.url, 'POST', '/items', { origin: 'http://evil.example' }, '{}');
    assert.equal(post.status, 403);
    assert.equal(items.length, count, 'nothing was added');
    assert.equal(handled, before, 'no handler ran');
  });

  it('lets an allowed Origin in, with CORS headers and an answered preflight', async () => {
    const own = await startJsonApiServer({ routes, allowOrigins: ['http://dash.test:3000/'] });
    try {
      const ua = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';
      const page = {
        origin: 'http://DASH.test:3000',
        'sec-fetch-site': 'cross-site',
        'user-agent': ua,
        'content-type': 'text/plain',
        referer: 'http://dash.test:3000/',
      };
      const res = await send(own.url, 'POST', '/items', page, '{"from":"dash"}');
      assert.equal(res.status, 201);
      assert.equal(res.headers['access-control-allow-origin'], 'http://DASH.test:3000');
      const preflight = await send(own.url, 'OPTIONS', '/items', {
        origin: 'http://dash.test:3000',
        'access-control-request-method': 'POST',
      });
      assert.equal(preflight.status, 204);
      assert.match(String(preflight.headers['access-control-allow-headers']), /content-type/);
      const other = await send(own.url, 'OPTIONS', '/items', {
        origin: 'http://dash.test:3001',
        'access-control-request-method': 'POST',
      });
      assert.equal(other.status, 403, 'another port is another origin');
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await own.close();
    }
  });

  it('refuses Sec-Fetch-Site other than none and same-origin', async () => {
    for (const site of ['cross-site', 'same-site', 'Cross-Site']) {
      const res = await send(api.url, 'GET', '/items', { 'sec-fetch-site': site });
      assert.equal(res.status, 403, site);
      assert.equal(res.json()['code'], 'E_FORBIDDEN');
    }
    const post = await send(api.url, 'POST', '/items', { 'sec-fetch-site': 'same-site' }, '{}');
    assert.equal(post.status, 403);
    const passing: Record<string, string>[] = [
      { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-user': '?1' },
      { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' },
      { 'sec-fetch-mode': 'cors' },
    ];
    for (const headers of passing) {
      assert.equal(
        (await send(api.url, 'GET', '/items', headers)).status,
        200,
        JSON.stringify(headers),
      );
    }
  });

  it("refuses a Mozilla/ User-Agent with Toxiproxy's text, and not only that", async () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36';
    const res = await send(api.url, 'GET', '/items', { 'user-agent': ua });
    assert.equal(res.status, 403);
    assert.equal(res.text, 'User agent not allowed\n');
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const curl = await send(api.url, 'GET', '/items', { 'user-agent': 'curl/8.5.0' });
    assert.equal(curl.status, 200);
    // A WebView or old Opera does not start with Mozilla/: its Origin still gives it away.
    const opera = {
      'user-agent': 'Opera/9.80 (X11; Linux x86_64) Presto/2.12',
      origin: 'http://evil.example',
    };
    assert.equal((await send(api.url, 'POST', '/items', opera, '{}')).status, 403);
  });

  it('refuses a Host that is not the listening address (DNS rebinding)', async () => {
    const port = api.port;
    const refused = [
      `evil.example:${port}`,
      `127.0.0.2:${port}`,
      `a.localhost:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `localhost.evil.example:${port}`,
      'not a host',
    ];
    for (const host of refused) {
      const res = await send(api.url, 'GET', '/items', { host });
      assert.equal(res.status, 403, host);
      assert.match(String(res.json()['error']), /is not an address this server listens on/);
    }
    // The listening names at any port: a forwarder in between sends its own (see request-guards.ts).
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `LOCALHOST:${port}`,
      '127.0.0.1',
      `localhost:${port + 1}`,
      '[::1]',
    ]) {
      assert.equal((await send(api.url, 'GET', '/items', { host })).status, 200, host);
    }
    const own = await startJsonApiServer({
      routes,
      allowHosts: ['chaos.internal', 'fwd.test:9999'],
    });
    try {
      for (const host of ['chaos.internal', `chaos.internal:${own.port}`, 'fwd.test:9999']) {
        assert.equal((await send(own.url, 'GET', '/items', { host })).status, 200, host);
      }
      assert.equal((await send(own.url, 'GET', '/items', { host: 'fwd.test:9998' })).status, 403);
    } finally {
      await own.close();
    }
  });

  it('refuses a simple-type body with a browser marker, not a simple type alone', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const curlD = await send(api.url, 'POST', '/items', form, '{"curl":"-d"}');
    assert.equal(curlD.status, 201, 'curl -d sends a form type: still a real client');
    const goClient = await send(api.url, 'POST', '/items', { 'content-type': 'text/plain' }, '{}');
    assert.equal(goClient.status, 201, 'the Toxiproxy Go client sent text/plain before 2.5.0');
    const count = items.length;
    const markers: Record<string, string>[] = [
      { referer: 'http://evil.example/' },
      { cookie: 'a=b' },
      { 'upgrade-insecure-requests': '1' },
      { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    ];
    for (const marker of markers) {
      for (const type of ['text/plain', 'multipart/form-data; boundary=x', form['content-type']]) {
        const headers = { 'content-type': type, ...marker };
        const res = await send(api.url, 'POST', '/items', headers, '{}');
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(res.json()['code'], 'E_FORBIDDEN');
      }
    }
    assert.equal(items.length, count, 'no refused body was handled');
    const json = { 'content-type': 'application/json', referer: 'http://127.0.0.1/' };
    assert.equal((await send(api.url, 'POST', '/items', json, '{}')).status, 201);
  });

  it('needs the bearer token when one is set: missing or wrong 401, right 200', async () => {
    const missing = await send(guarded.url, 'GET', '/items');
    assert.equal(missing.status, 401);
    assert.equal(missing.json()['code'], 'E_UNAUTHORIZED');
    const wrong = ['Bearer nope', 'Bearer s3cret-and-more', 'Basic s3cret', 'Bearer'];
    for (const authorization of wrong) {
      const res = await send(guarded.url, 'GET', '/items', { authorization });
      assert.equal(res.status, 401, authorization);
    }
    const ok = await send(guarded.url, 'GET', '/items', { authorization: 'Bearer s3cret' });
    assert.equal(ok.status, 200);
    const browser = await send(guarded.url, 'GET', '/items', {
      authorization: 'Bearer s3cret',
      origin: 'http://evil.example',
    });
    assert.equal(browser.status, 403, 'the token does not let a browser in');
  });

  it('locates a malformed %-escape: the route parameter and the character', async () => {
    const located: Array<[string, number]> = [
      ['%ZZ', 1],
      ['ok%20x%ZZ', 7],
      ['%C3%A9%ZZ', 7],
      ['%E0%A4%A', 1],
    ];
    for (const [raw, at] of located) {
      const res = await send(api.url, 'GET', `/items/${raw}`);
      assert.equal(res.status, 400, raw);
      assert.match(String(res.json()['error']), new RegExp(`at character ${at}$`), raw);
    }
  });

  it('answers a malformed %-escape in a path param with 400, and keeps serving', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const raw of ['%ZZ', '%', '%E0%A4%A', 'a%2']) {
        const res = await send(api.url, 'GET', `/items/${raw}`, {}, undefined, agent);
        assert.equal(res.status, 400, raw);
        assert.equal(res.json()['code'], 'E_BAD_REQUEST');
        assert.ok(res.json()['hint'], 'with a hint');
        assert.match(
          String(res.json()['error']),
          /\(the \{id\} of \/items\/\{id\}\), at character \d+$/,
        );
        const next = await send(api.url, 'GET', '/items/ok%20name', {}, undefined, agent);
        assert.equal(next.status, 200);
        assert.deepEqual(next.json(), { id: 'ok name' });
      }
    } finally {
      agent.destroy();
    }
    assert.equal(errors.length, 0, 'not an internal error');
  });

  it('answers an oversized body 413 (declared or chunked) and a non-JSON body 400', async () => {
    const big = `{"x":"${'y'.repeat(2000)}"}`;
    assert.equal((await send(api.url, 'POST', '/items', {}, big)).status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${api.url}/items`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i += 1) req.write('x'.repeat(600));
      req.end();
    });
    assert.equal(chunked, 413);
    const json = { 'content-type': 'application/json' };
    const bad = await send(api.url, 'POST', '/items', json, '{"a":');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json()['error']), /^bad request body/);
    const before = handled;
    const form = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '7' };
    const notJson = await send(api.url, 'GET', '/items', form, 'reset=1');
    assert.equal(notJson.status, 400, 'a body that is present must be JSON, read or not');
    assert.equal(handled, before, 'the handler did not run');
    assert.equal(
      (await send(api.url, 'GET', '/items', { 'content-length': '2' }, ' \n')).status,
      200,
      'blank is no body',
    );
    assert.equal((await send(api.url, 'GET', '/items')).status, 200);
  });

  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    const unknown = await send(api.url, 'GET', '/nowhere');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json()['code'], 'E_NOT_FOUND');
    const wrong = await send(api.url, 'DELETE', '/items');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers['allow'], 'GET, POST');
    const slash = await send(api.url, 'GET', '/items/');
    assert.equal(slash.status, 200, 'a trailing slash is ignored');
    assert.equal((await send(api.url, 'GET', '/items?x=1')).status, 200, 'a query is ignored');
  });

  it('renders typed errors with code, hint and issues, and text replies as they are', async () => {
    const typed = await send(api.url, 'GET', '/typed');
    assert.equal(typed.status, 400);
    assert.deepEqual(typed.json(), {
      error: 'invalid thing',
      status: 400,
      code: 'E_VALIDATION',
      hint: 'fix a.b',
      issues: [{ path: 'a.b', message: 'must be a number' }],
    });
    const text = await send(api.url, 'GET', '/text');
    assert.equal(text.text, 'plain\n');
    assert.equal(text.headers['content-type'], 'text/plain');
  });

  it('answers a plain Error from a handler with 500 JSON, reports it, keeps serving', async () => {
    const res = await send(api.url, 'GET', '/boom');
    assert.equal(res.status, 500);
    assert.deepEqual(res.json(), { error: 'internal error', status: 500, code: 'E_INTERNAL' });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, 'kaboom');
    assert.equal((await send(api.url, 'GET', '/items')).status, 200);
  });

  it('close() ends idle keep-alive connections instead of waiting for them', async () => {
    const own = await startJsonApiServer({ routes });
    const agent = new Agent({ keepAlive: true });
    try {
      assert.equal((await send(own.url, 'GET', '/items', {}, undefined, agent)).status, 200);
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), 5000);
      });
      const closed = own.close().then(() => 'closed' as const);
      assert.equal(await Promise.race([closed, stuck]), 'closed');
      clearTimeout(timer);
    } finally {
      agent.destroy();
    }
  });
});
