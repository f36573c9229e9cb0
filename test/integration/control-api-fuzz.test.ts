// A seeded, bounded fuzz of the proxy control API over real sockets: a few thousand requests
// with random methods, paths (malformed %-escapes, dot segments, surrogates, control
// characters), headers (browser markers, Hosts, content types) and bodies (valid specs, bad
// values, misspelt attributes, huge durations, broken and non-JSON text). Asserted for every
// answer: no 5xx for a client's mistake, every 4xx with a JSON error (Toxiproxy's two text
// answers excepted), the server keeps serving; and at the end: every proxy it created is
// addressable by its name, /reset leaves no toxic, deleting them leaves no listener.
// FAULTLINE_FUZZ_SEED reproduces a failing run.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startControlServer, type ControlServer } from '../../src/engines/proxy/api/server.js';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { seededRandom, type RandomSource } from '../../src/engines/proxy/random.js';

const SEED = Number(process.env['FAULTLINE_FUZZ_SEED'] ?? 20261202);
const REQUESTS = 3000;

interface Answer {
  status: number;
  type: string;
  text: string;
}

function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const all = { ...headers };
    if (body !== undefined) all['content-length'] = String(Buffer.byteLength(body));
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: all, agent, setHost: !('host' in all) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('control API fuzz', { timeout: 60_000 }, () => {
  let echo: Server;
  let upstream: string;
  let collection: ProxyCollection;
  let api: ControlServer;
  const internal: unknown[] = [];

  before(async () => {
    echo = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    upstream = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
    collection = new ProxyCollection({ seed: SEED });
    api = await startControlServer({ collection, port: 0, onError: (err) => internal.push(err) });
  });

  after(async () => {
    await api.close();
    await collection.close();
    echo.close();
  });

  it(`answers ${REQUESTS} random requests without a 5xx, and leaves nothing behind (seed ${SEED})`, async () => {
    const random: RandomSource = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const chance = (p: number): boolean => random() < p;
    const int = (max: number): number => Math.floor(random() * max);

    const names = [
      'pg',
      'redis',
      'a b',
      'ünï',
      '%41',
      'x.y',
      '.',
      '..',
      'a/b',
      '',
      '\uD800',
      'tab\t',
      'long'.repeat(20),
    ];
    const escapes = [
      '%ZZ',
      '%',
      '%E0%A4%A',
      '%2F',
      '%2e',
      '%2E%2E',
      '%00',
      '%C0%AF',
      '%ED%A0%80',
      '..',
      '.',
    ];
    // Names as a client sends them (encoded); a lone surrogate cannot be encoded at all.
    const encoded = (): string => encodeURIComponent(pick(names).replace(/[\uD800-\uDFFF]/g, 'x'));
    const segment = (): string =>
      chance(0.15) ? pick(escapes) : chance(0.1) ? pick(escapes) + encoded() : encoded();
    const toxicTypes = [
      'latency',
      'bandwidth',
      'timeout',
      'reset_peer',
      'slow_close',
      'slicer',
      'limit_data',
      'connect_delay',
      'refuse',
      'blackhole',
      'noop',
      'http_abort',
      'http_delay',
      'latncy',
      '',
    ];
    const attributeNames = [
      'latency',
      'jitter',
      'rate',
      'timeout',
      'delay',
      'bytes',
      'average_size',
      'size_variation',
      'latancy',
      'status',
      'path_regex',
      '__proto__',
      'constructor',
    ];
    const value = (): unknown =>
      pick([
        0,
        1,
        100,
        -1,
        1.5,
        2 ** 31 - 1,
        2 ** 31,
        3e9,
        1e308,
        'x',
        '3s',
        null,
        true,
        [],
        {},
        '(',
        'a'.repeat(50),
      ]);
    const attributes = (): unknown => {
      if (chance(0.1)) return pick(['x', 1, null, [], [1]]);
      const out: Record<string, unknown> = {};
      for (let i = int(3); i > 0; i--) out[pick(attributeNames)] = value();
      return out;
    };
    const toxicBody = (): Record<string, unknown> => {
      const body: Record<string, unknown> = { type: pick(toxicTypes) };
      if (chance(0.7)) body['attributes'] = attributes();
      if (chance(0.3)) body['name'] = pick(names);
      if (chance(0.3)) body['stream'] = pick(['upstream', 'downstream', 'UPSTREAM', 'sideways', 1]);
      if (chance(0.2)) body['toxicity'] = pick([0, 0.5, 1, 2, -1, 'x']);
      if (chance(0.2)) body['expires_in'] = pick([1, 60, 0, -1, 3e9, 'x']);
      return body;
    };
    const proxyBody = (): Record<string, unknown> => {
      const body: Record<string, unknown> = {};
      if (chance(0.9)) body['name'] = pick(names);
      if (chance(0.9))
        body['upstream'] = chance(0.7) ? upstream : pick(['nohost', 'x:99999', ':1', '', 5]);
      if (chance(0.3))
        body['listen'] = pick([
          '127.0.0.1:0',
          '',
          'localhost:0',
          '0.0.0.0:0',
          'bad',
          '127.0.0.1:99999',
          7,
        ]);
      if (chance(0.2)) body['enabled'] = pick([true, false, 'yes']);
      if (chance(0.2)) body['mode'] = pick(['tcp', 'http', 'udp']);
      if (chance(0.1)) body['toxics'] = chance(0.8) ? [toxicBody()] : 'x';
      return body;
    };
    const bodyText = (): string | undefined => {
      if (chance(0.25)) return undefined;
      const roll = random();
      if (roll < 0.35) return JSON.stringify(proxyBody());
      if (roll < 0.7) return JSON.stringify(toxicBody());
      if (roll < 0.78) return JSON.stringify([proxyBody(), proxyBody()]);
      const garbage = [
        '{',
        '{"name":',
        'reset=1',
        'null',
        '[]',
        '"x"',
        '{}{}',
        '{"a":1} trailing',
        ' ',
        '\u0000',
        '{"name":"\uD800"}',
        JSON.stringify({ attributes: { latency: 1 } }),
      ];
      return pick(garbage);
    };
    // A path and, mostly, a method that route takes (else anything: 404s and 405s).
    const target = (): { method: string; path: string } => {
      const p = segment;
      const shapes: Array<[string[], () => string]> = [
        [['GET', 'POST', 'POST'], () => '/proxies'],
        [['GET', 'POST', 'PATCH', 'DELETE'], () => `/proxies/${p()}`],
        [['GET', 'POST', 'POST'], () => `/proxies/${p()}/toxics`],
        [['GET', 'POST', 'PATCH', 'DELETE'], () => `/proxies/${p()}/toxics/${p()}`],
        [['POST'], () => '/populate'],
        [['POST'], () => '/reset'],
        [['GET'], () => '/version'],
        [['GET'], () => '/metrics'],
        [['GET'], () => `/${p()}`],
        [['GET', 'DELETE'], () => `/proxies/${p()}/`],
        [['GET'], () => `/proxies/${p()}?x=${p()}`],
        [['GET'], () => '/proxies//toxics'],
      ];
      const [methods, path] = pick(shapes);
      const any = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'];
      return { method: pick(chance(0.8) ? methods : any), path: path() };
    };
    const headersOf = (): { headers: Record<string, string>; browser: boolean } => {
      const headers: Record<string, string> = {};
      let browser = false;
      if (chance(0.6))
        headers['content-type'] = pick([
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          '',
        ]);
      if (chance(0.08)) {
        headers['origin'] = pick(['http://evil.example', 'null', `http://127.0.0.1:${api.port}`]);
        browser = true;
      }
      if (chance(0.06)) {
        headers['sec-fetch-site'] = pick(['cross-site', 'same-site']);
        browser = true;
      }
      if (chance(0.04)) {
        headers['host'] = pick([
          `evil.example:${api.port}`,
          `localhost.evil:${api.port}`,
          `127.0.0.2:${api.port}`,
        ]);
        browser = true;
      }
      if (chance(0.04)) {
        headers['user-agent'] = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';
        browser = true;
      }
      if (chance(0.05)) headers['sec-fetch-site'] ??= pick(['none', 'same-origin']);
      if (chance(0.05)) headers['sec-fetch-mode'] = 'cors';
      return { headers, browser };
    };

    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const statuses = new Map<number, number>();
    const created = new Set<number>();
    const started = performance.now();
    try {
      for (let i = 0; i < REQUESTS; i++) {
        const { method, path } = target();
        const { headers, browser } = headersOf();
        const body = method === 'GET' && chance(0.7) ? undefined : bodyText();
        const what = `#${i} ${method} ${path} ${JSON.stringify(headers)} ${JSON.stringify(body)}`;
        const res = await send(agent, api.port, method, path, headers, body);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(
          res.status < 500,
          `no 5xx for a client's mistake: ${res.status} ${res.text} for ${what}`,
        );
        if (browser) assert.equal(res.status, 403, `a browser's request is refused: ${what}`);
        if (res.status >= 400) {
          if (res.text === '404 page not found\n' || res.text === 'User agent not allowed\n') {
            assert.match(res.type, /^text\/plain/, what);
          } else {
            assert.match(res.type, /^application\/json/, `a JSON error: ${what}`);
            const error = JSON.parse(res.text) as {
              error?: unknown;
              status?: unknown;
              code?: unknown;
            };
            assert.equal(typeof error.error, 'string', what);
            assert.ok((error.error as string).length > 0, what);
            assert.equal(error.status, res.status, what);
            assert.equal(typeof error.code, 'string', what);
          }
        }
        if (res.status === 201) {
          const json = JSON.parse(res.text) as {
            listen?: string;
            proxies?: Array<{ listen: string }>;
          };
          for (const { listen } of json.proxies ?? [json as { listen: string }]) {
            created.add(Number(listen.slice(listen.lastIndexOf(':') + 1)));
          }
        }
      }
    } finally {
      agent.destroy();
    }
    const elapsed = performance.now() - started;
    assert.deepEqual(internal, [], 'no internal error');
    assert.ok(elapsed < 30_000, `bounded: ${Math.round(elapsed)} ms`);
    // The mix reached the handlers, not only the refusals.
    for (const status of [200, 201, 204, 400, 403, 404, 405, 409]) {
      assert.ok(
        (statuses.get(status) ?? 0) > 0,
        `some ${status} among ${JSON.stringify([...statuses])}`,
      );
    }

    // Every proxy the fuzz created can be read and deleted by its name.
    const base = api.url;
    const listed = (await (await fetch(`${base}/proxies`)).json()) as Record<
      string,
      { listen: string }
    >;
    for (const proxy of collection.list()) {
      created.add(proxy.port);
      const res = await fetch(`${base}/proxies/${encodeURIComponent(proxy.name)}`);
      assert.equal(res.status, 200, `proxy ${JSON.stringify(proxy.name)} is addressable`);
      await res.text();
    }
    assert.equal(Object.keys(listed).length, collection.list().length);
    assert.equal((await fetch(`${base}/reset`, { method: 'POST' })).status, 204);
    assert.equal(
      collection.list().reduce((n, p) => n + p.toxics.length, 0),
      0,
      'no toxic after /reset',
    );
    for (const proxy of collection.list()) {
      const res = await fetch(`${base}/proxies/${encodeURIComponent(proxy.name)}`, {
        method: 'DELETE',
      });
      assert.equal(res.status, 204, `proxy ${JSON.stringify(proxy.name)} is deletable`);
    }
    assert.equal(collection.list().length, 0);
    for (const port of created) {
      if (port === 0) continue;
      const socket = connect(port, '127.0.0.1');
      const outcome = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      socket.destroy();
      assert.equal(outcome, 'ECONNREFUSED', `no listener left on ${port}`);
    }
    console.log(
      `# fuzz seed ${SEED}: ${REQUESTS} requests in ${Math.round(elapsed)} ms, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}, ${created.size} proxies created`,
    );
  });
});
