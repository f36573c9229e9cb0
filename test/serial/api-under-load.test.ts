// The control API stays responsive while 1,000 connections stream through a proxy: adding and
// removing toxics (including a bandwidth toxic at rate 0, which stalls every stream) answers
// quickly and never waits on a socket — Toxiproxy hangs here (its issue #558).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  ProxyApiClient,
  ProxyCollection,
  startControlServer,
  type FaultProxy,
} from '../../src/index.js';

const CONNECTIONS = 1_000;
const CHUNK = Buffer.alloc(4 * 1024, 7);

describe('control API under 1,000 streaming connections', () => {
  const proxies = new ProxyCollection({ seed: 3 });
  let source: Server;
  let proxy: FaultProxy;
  let api: ProxyApiClient;
  let closeApi: () => Promise<void>;
  const clients: Socket[] = [];
  let received = 0;
  let pacer: NodeJS.Timeout | undefined;

  before(async () => {
    // Every upstream connection streams 4 KiB every 50 ms (80 KB/s each, 80 MB/s in all): the
    // proxy, the streams' both ends and the API share this one process, so the streams are
    // paced rather than flat out (flat out, the test process itself would be the bottleneck).
    const streams = new Set<Socket>();
    source = createServer((socket) => {
      socket.on('error', () => undefined);
      streams.add(socket);
      socket.on('close', () => streams.delete(socket));
      socket.write(CHUNK);
    });
    pacer = setInterval(() => {
      for (const socket of streams)
        if (socket.writableLength < 4 * CHUNK.length) socket.write(CHUNK);
    }, 50);
    source.listen(0, '127.0.0.1');
    await once(source, 'listening');
    proxy = await proxies.create({
      name: 'stream',
      upstream: `127.0.0.1:${(source.address() as AddressInfo).port}`,
    });
    const server = await startControlServer({ collection: proxies, host: '127.0.0.1', port: 0 });
    closeApi = server.close;
    api = new ProxyApiClient({ url: server.url });

    // Connect in batches of 100 (the listen backlog is finite) and wait until every connection
    // has received its first bytes: all 1,000 are streaming.
    for (let batch = 0; batch < CONNECTIONS / 100; batch++) {
      const streaming: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        const socket = connect(proxy.port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => (received += chunk.length));
        clients.push(socket);
        streaming.push(once(socket, 'data'));
      }
      await Promise.all(streaming);
    }
  });

  after(async () => {
    clearInterval(pacer);
    for (const socket of clients) socket.destroy();
    await closeApi();
    await proxies.close();
    source.close();
  });

  it(
    'answers add/remove toxic calls quickly while the streams run',
    { timeout: 120_000 },
    async (t) => {
      assert.equal(proxy.stats.connections_active, CONNECTIONS);
      const timings: number[] = [];
      const timed = async (work: () => Promise<unknown>): Promise<void> => {
        const start = performance.now();
        await work();
        timings.push(performance.now() - start);
      };
      const types = [
        { type: 'latency', attributes: { latency: 20 } },
        { type: 'bandwidth', attributes: { rate: 0 } },
        { type: 'slicer', attributes: { average_size: 512, size_variation: 128 } },
      ] as const;
      for (let round = 0; round < 25; round++) {
        const spec = types[round % types.length]!;
        const name = `t${round}`;
        await timed(() =>
          api.addToxicJson('stream', { name, ...spec, attributes: { ...spec.attributes } }),
        );
        await timed(() => api.getProxy('stream'));
        await timed(() => api.updateToxic('stream', name, { toxicity: 0.5 }));
        await timed(() => api.removeToxic('stream', name));
      }
      timings.sort((a, b) => a - b);
      const p99 = timings[Math.min(timings.length - 1, Math.ceil(timings.length * 0.99) - 1)]!;
      const p50 = timings[Math.floor(timings.length / 2)]!;
      t.diagnostic(
        `control API p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${timings.length} calls`,
      );
      assert.ok(
        p99 < 1_000,
        `control API p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms with ${CONNECTIONS} streams`,
      );

      // The streams were really running (and survived the stalls): bytes keep flowing after.
      const before = received;
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (received > before + 16 * 1024 * 1024) resolve();
          else setImmediate(check);
        };
        check();
      });
      assert.equal(proxy.stats.connections_active, CONNECTIONS, 'no stream was lost');
    },
  );
});
