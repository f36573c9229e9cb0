// Bad input on the proxy control API over real sockets: names that cannot round-trip a URL
// path, durations past what a timer holds, misspelt attributes, several problems in one body.
// toxiproxy-node-client (a real Toxiproxy client nobody here wrote) shows that a client sending
// exactly the known attributes is not affected.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Toxiproxy, type ICreateToxicBody, type Latency } from 'toxiproxy-node-client';
import { startControlServer, type ControlServer } from '../../src/engines/proxy/api/server.js';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { MAX_TIMER_MS } from '../../src/shared/timer-bounds.js';
import { waitFor } from '../helpers/wait-for.js';

interface ErrorBody {
  error: string;
  status: number;
  code: string;
  hint?: string;
  issues?: Array<{ path: string; message: string; hint?: string }>;
}

describe('control API input checks', () => {
  let echo: Server;
  let upstream: string;
  let collection: ProxyCollection;
  let api: ControlServer;

  before(async () => {
    echo = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    upstream = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
    collection = new ProxyCollection({ seed: 7 });
    api = await startControlServer({ collection, port: 0 });
  });

  after(async () => {
    await api.close();
    await collection.close();
    echo.close();
  });

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: ErrorBody }> {
    const res = await fetch(`${api.url}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as ErrorBody };
  }

  it('refuses names that cannot round-trip through a URL path, and creates no listener', async () => {
    const names = [
      '',
      '.',
      '..',
      'a/b',
      '\uD800',
      'x\uDC00y',
      'tab\there',
      'nul\u0000',
      'del\u007f',
    ];
    for (const name of names) {
      const res = await call('POST', '/proxies', { name, listen: '127.0.0.1:0', upstream });
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.equal(res.json.issues?.[0]?.path, 'name');
      assert.ok(res.json.hint, `a hint for ${JSON.stringify(name)}`);
    }
    assert.deepEqual(collection.list(), [], 'nothing was created');
    // A name that needs escaping but round-trips is fine, and addressable.
    const odd = 'ünï cödé %?#';
    assert.equal((await call('POST', '/proxies', { name: odd, upstream })).status, 201);
    assert.equal((await call('GET', `/proxies/${encodeURIComponent(odd)}`)).status, 200);
    for (const name of ['.', '..', 'a/b', '\u0007']) {
      const res = await call('POST', `/proxies/${encodeURIComponent(odd)}/toxics`, {
        name,
        type: 'noop',
      });
      assert.equal(res.status, 400, `toxic name ${JSON.stringify(name)}`);
      assert.match(res.json.error, /^name: toxic name/);
    }
    assert.equal((await call('DELETE', `/proxies/${encodeURIComponent(odd)}`)).status, 204);
  });

  it('bounds every duration attribute by what a timer can hold, and refuses negatives', async () => {
    await call('POST', '/proxies', { name: 'timers', upstream });
    const durations: Array<[string, string, number]> = [
      ['latency', 'latency', MAX_TIMER_MS],
      ['latency', 'jitter', MAX_TIMER_MS],
      ['timeout', 'timeout', MAX_TIMER_MS],
      ['reset_peer', 'timeout', MAX_TIMER_MS],
      ['slow_close', 'delay', MAX_TIMER_MS],
      ['connect_delay', 'delay', MAX_TIMER_MS],
      ['slicer', 'delay', MAX_TIMER_MS * 1000],
    ];
    for (const [type, attribute, max] of durations) {
      const over = await call('POST', '/proxies/timers/toxics', {
        type,
        attributes: { [attribute]: max + 1 },
      });
      assert.equal(over.status, 400, `${type}.${attribute} above the maximum`);
      assert.equal(over.json.issues?.[0]?.path, `attributes.${attribute}`);
      assert.match(
        over.json.hint ?? '',
        new RegExp(`maximum is ${max}`),
        `${type}: the maximum in the hint`,
      );
      const huge = await call('POST', '/proxies/timers/toxics', {
        type,
        attributes: { [attribute]: 3e9 * 1000 },
      });
      assert.equal(huge.status, 400);
      const negative = await call('POST', '/proxies/timers/toxics', {
        type,
        attributes: { [attribute]: -1 },
      });
      assert.equal(negative.status, 400, `${type}.${attribute} negative`);
      const at = await call('POST', '/proxies/timers/toxics', {
        type,
        name: 'at',
        attributes: { [attribute]: max },
      });
      assert.equal(at.status, 200, `${type}.${attribute} at the maximum is accepted`);
      assert.equal((await call('DELETE', '/proxies/timers/toxics/at')).status, 204);
    }
    const http = await call('POST', '/proxies', { name: 'http-timers', upstream, mode: 'http' });
    assert.equal(http.status, 201);
    const delay = await call('POST', '/proxies/http-timers/toxics', {
      type: 'http_delay',
      attributes: { delay: 3e9 },
    });
    assert.equal(delay.status, 400);
    // An update is bounded too, and leaves the toxic as it was.
    await call('POST', '/proxies/timers/toxics', {
      type: 'timeout',
      attributes: { timeout: 1000 },
    });
    const update = await call('POST', '/proxies/timers/toxics/timeout_downstream', {
      attributes: { timeout: 3e9 },
    });
    assert.equal(update.status, 400);
    assert.equal(
      collection.get('timers').getToxic('timeout_downstream').attributes['timeout'],
      1000,
    );
  });

  it('acts on a maximal timeout and stacked connect delays without a timer overflow', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const created = await call('POST', '/proxies', { name: 'max', upstream });
      assert.equal(created.status, 201);
      const proxy = collection.get('max');
      proxy.addToxic({ name: 'silence', type: 'timeout', attributes: { timeout: MAX_TIMER_MS } });
      proxy.addToxic({ name: 'd1', type: 'connect_delay', attributes: { delay: MAX_TIMER_MS } });
      proxy.addToxic({ name: 'd2', type: 'connect_delay', attributes: { delay: MAX_TIMER_MS } });
      const socket = connect(proxy.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('hello');
      await waitFor('the connection accepted', () => proxy.getToxic('d1').stats.connections === 1);
      // A warning is emitted on the next tick after an overflowing setTimeout.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(socket.destroyed, false, 'the connection is still open');
      assert.deepEqual(
        warnings.map((w) => w.name).filter((n) => n === 'TimeoutOverflowWarning'),
        [],
      );
      socket.destroy();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses unknown attributes with "did you mean", and Toxiproxy clients keep working', async () => {
    await call('POST', '/proxies', { name: 'typo', upstream });
    const typo = await call('POST', '/proxies/typo/toxics', {
      type: 'latency',
      attributes: { latancy: 3000 },
    });
    assert.equal(typo.status, 400);
    assert.equal(typo.json.error, 'attributes.latancy: unknown attribute');
    assert.equal(typo.json.hint, 'did you mean "latency"?');
    const none = await call('POST', '/proxies/typo/toxics', {
      type: 'refuse',
      attributes: { delay: 1 },
    });
    assert.equal(none.status, 400);
    assert.equal(none.json.hint, 'this toxic takes no attributes');
    const far = await call('POST', '/proxies/typo/toxics', {
      type: 'bandwidth',
      attributes: { zzzzzzzz: 1 },
    });
    assert.match(far.json.hint ?? '', /known attributes: rate/);
    assert.equal(collection.get('typo').toxics.length, 0, 'nothing was added');

    // toxiproxy-node-client sends every known attribute, and updates with the full toxic.
    const client = new Toxiproxy(api.url);
    const proxy = await client.get('typo');
    const toxic = await proxy.addToxic({
      name: 'lag',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 10, jitter: 1 },
    } as ICreateToxicBody<Latency>);
    const updated = await toxic.update({ ...toxic, attributes: { latency: 20, jitter: 0 } });
    assert.equal(updated.attributes.latency, 20);
    await updated.remove();
  });

  it("keeps Toxiproxy's text for the first problem in error, every problem in issues", async () => {
    const both = await call('POST', '/proxies', { listen: '127.0.0.1:0' });
    assert.equal(both.status, 400);
    assert.equal(both.json.error, 'missing required field: name');
    assert.deepEqual(
      both.json.issues?.map((i) => i.path),
      ['name', 'upstream'],
    );
    const populate = await call('POST', '/populate', [{ upstream }, { name: 'p2' }]);
    assert.equal(populate.status, 400);
    assert.equal(populate.json.error, 'missing required field: name at proxy 1');
    assert.equal(populate.json.issues?.length, 2);
    const toxic = await call('POST', '/proxies/typo/toxics', {
      type: 'latency',
      stream: 'sideways',
      toxicity: 7,
      attributes: { latency: -1 },
    });
    assert.equal(toxic.json.error, 'stream was invalid, can be either upstream or downstream');
    assert.deepEqual(toxic.json.issues?.map((i) => i.path).sort(), [
      'attributes.latency',
      'stream',
      'toxicity',
    ]);
    const type = await call('POST', '/proxies/typo/toxics', { type: 'nope', toxicity: 7 });
    assert.equal(type.json.error, 'invalid toxic type');
    assert.equal(type.json.issues?.length, 2);
  });

  it("writes Toxiproxy's byte counters with its label order", async () => {
    await call('POST', '/proxies', { name: 'labels', upstream });
    const listen = collection.get('labels').listen;
    const text = await (await fetch(`${api.url}/metrics`)).text();
    for (const name of ['received', 'sent']) {
      for (const direction of ['upstream', 'downstream']) {
        const line = `toxiproxy_proxy_${name}_bytes_total{direction="${direction}",listener="${listen}",proxy="labels",upstream="${upstream}"} 0`;
        assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
      }
    }
  });
});
