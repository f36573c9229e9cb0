// A first end-to-end check of the in-process proxy: bytes both ways, a latency toxic on a live
// connection, half-close, and a lease that removes the toxic by itself.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { ProxyCollection } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';

describe('proxy smoke test', () => {
  let echo: Server;
  let proxies: ProxyCollection;

  before(async () => {
    echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    proxies = new ProxyCollection({ seed: 7 });
  });

  after(async () => {
    await proxies.close();
    echo.close();
  });

  async function roundTrip(socket: Socket): Promise<number> {
    const start = performance.now();
    socket.write('x');
    await once(socket, 'data');
    return performance.now() - start;
  }

  it('carries bytes, applies a latency toxic on a live connection, and drops it when the lease runs out', async () => {
    const port = (echo.address() as AddressInfo).port;
    const proxy = await proxies.create({ name: 'echo', upstream: `127.0.0.1:${port}` });
    const client = connect(proxy.port, '127.0.0.1');
    client.setNoDelay(true);
    await once(client, 'connect');
    try {
      assert.ok((await roundTrip(client)) < 100);
      const toxic = proxy.addToxic({
        type: 'latency',
        attributes: { latency: 120 },
        expires_in: 0.6,
      });
      const slow = await roundTrip(client);
      assert.ok(slow >= 119 && slow < 400, `round trip with 120 ms latency was ${slow} ms`);
      assert.equal(toxic.stats.connections, 1);
      assert.ok(toxic.stats.bytes >= 1);
      // The lease: the proxy removes the toxic by itself.
      await waitFor('the proxy to remove the toxic at its lease', () => proxy.toxics.length === 0, {
        timeoutMs: 3_000,
        intervalMs: 20,
      });
      assert.ok((await roundTrip(client)) < 100);
      assert.ok(proxy.stats.bytes_upstream >= 3 && proxy.stats.bytes_downstream >= 3);
    } finally {
      client.destroy();
    }
  });

  it('propagates half-close: a client that ends its write side still gets the reply', async () => {
    const port = (echo.address() as AddressInfo).port;
    const proxy = await proxies.create({ name: 'half', upstream: `127.0.0.1:${port}` });
    const client = connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    let reply = '';
    client.on('data', (d: Buffer) => (reply += d.toString()));
    client.end('request then FIN');
    await once(client, 'end');
    client.destroy();
    assert.equal(reply, 'request then FIN');
  });
});
