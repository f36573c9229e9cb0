// Integrity and backpressure: ≥ 1 GiB of random bytes through the proxy, hashed on both ends,
// with no toxic, with latency, slicer and bandwidth toxics, and with toxics added and removed
// mid-transfer; and a paused reader facing a fast writer, which must not make the proxy buffer
// without bound. FAULTLINE_INTEGRITY_MIB overrides the volume (default 1024 MiB per case).
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ProxyCollection, type FaultProxy } from '../../src/index.js';

const MIB = 1024 * 1024;
const VOLUME = Number(process.env['FAULTLINE_INTEGRITY_MIB'] ?? 1024) * MIB;
const CHUNK = MIB;

/** Writes `total` random bytes to `socket`, respecting backpressure; resolves with their hash. */
async function sendRandom(
  socket: Socket,
  total: number,
  onProgress?: (sent: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  while (sent < total) {
    const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, total - sent)));
    hash.update(chunk);
    sent += chunk.length;
    onProgress?.(sent);
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.end();
  return hash.digest('hex');
}

/** Reads `socket` to EOF; resolves with the hash and length of what arrived. */
function receiveAll(
  socket: Socket,
  onData?: (received: number) => void,
): Promise<{ hash: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      onData?.(length);
    });
    socket.on('end', () => resolve({ hash: hash.digest('hex'), length }));
    socket.on('error', reject);
  });
}

/** An upstream that streams `volume` random bytes to every client, and reports their hash. */
class RandomSource {
  readonly server: Server;
  private sentHashes: Promise<string>[] = [];

  constructor(private readonly volume: () => number) {
    this.server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => undefined);
      socket.resume(); // the client sends nothing; read to EOF so half-close completes
      this.sentHashes.push(sendRandom(socket, this.volume()));
    });
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  lastSentHash(): Promise<string> {
    const last = this.sentHashes.at(-1);
    assert.ok(last, 'the source served a connection');
    return last;
  }
}

describe('integrity: every byte through the proxy, in order, once', () => {
  const proxies = new ProxyCollection({ seed: 5 });
  const source = new RandomSource(() => VOLUME);
  let proxy: FaultProxy;

  before(async () => {
    proxy = await proxies.create({ name: 'random', upstream: await source.listen() });
  });
  after(async () => {
    await proxies.close();
    source.server.close();
  });

  async function transfer(onData?: (received: number) => void): Promise<void> {
    const client = connect(proxy.port, '127.0.0.1');
    await once(client, 'connect');
    client.end(); // half-close our side at once: the stream must still arrive in full
    const received = await receiveAll(client, onData);
    assert.equal(received.length, VOLUME);
    assert.equal(received.hash, await source.lastSentHash());
  }

  it('with no toxic', { timeout: 300_000 }, () => transfer());

  it('with a latency toxic', { timeout: 300_000 }, async () => {
    const toxic = proxy.addToxic({ type: 'latency', attributes: { latency: 5, jitter: 2 } });
    try {
      await transfer();
      assert.equal(toxic.stats.bytes, VOLUME);
    } finally {
      proxy.removeToxic(toxic.name);
    }
  });

  it('with a slicer toxic', { timeout: 300_000 }, async () => {
    const toxic = proxy.addToxic({
      type: 'slicer',
      attributes: { average_size: 8192, size_variation: 4096, delay: 0 },
    });
    try {
      await transfer();
    } finally {
      proxy.removeToxic(toxic.name);
    }
  });

  it('with a bandwidth toxic', { timeout: 300_000 }, async () => {
    // 600 MB/s: fast enough for the volume, slow enough that the toxic really meters it.
    const toxic = proxy.addToxic({ type: 'bandwidth', attributes: { rate: 600_000 } });
    try {
      await transfer();
    } finally {
      proxy.removeToxic(toxic.name);
    }
  });

  it('with toxics added, updated and removed mid-transfer', { timeout: 300_000 }, async () => {
    const plan = ['latency', 'slicer', 'bandwidth', 'update', 'remove-all'] as const;
    let step = 0;
    let nextAt = VOLUME / (plan.length + 1);
    await transfer((received) => {
      if (received < nextAt || step >= plan.length) return;
      const action = plan[step++];
      nextAt += VOLUME / (plan.length + 1);
      switch (action) {
        case 'latency':
          proxy.addToxic({ name: 'lat', type: 'latency', attributes: { latency: 3, jitter: 3 } });
          break;
        case 'slicer':
          proxy.addToxic({
            name: 'slice',
            type: 'slicer',
            attributes: { average_size: 16384, size_variation: 8192 },
          });
          break;
        case 'bandwidth':
          proxy.addToxic({ name: 'bw', type: 'bandwidth', attributes: { rate: 800_000 } });
          break;
        case 'update':
          proxy.updateToxic('lat', { attributes: { latency: 1 } });
          proxy.removeToxic('slice');
          break;
        case 'remove-all':
          proxy.removeAllToxics();
          break;
      }
    });
    assert.equal(step, plan.length, 'every toggle happened during the transfer');
    assert.equal(proxy.toxics.length, 0);
  });
});

describe('backpressure: a paused reader and a fast writer', () => {
  const proxies = new ProxyCollection({ seed: 6 });
  let sink: Server;
  let proxy: FaultProxy;

  before(async () => {
    sink = createServer({ allowHalfOpen: true }, (socket) => {
      socket.pause(); // a reader that does not read
    });
    sink.listen(0, '127.0.0.1');
    await once(sink, 'listening');
    proxy = await proxies.create({
      name: 'sink',
      upstream: `127.0.0.1:${(sink.address() as AddressInfo).port}`,
    });
  });
  after(async () => {
    await proxies.close();
    sink.close();
  });

  /**
   * Writes until the writer has been blocked on 'drain' with no byte moving through the proxy
   * for 500 ms: the state a stalled reader must produce. Returns the bytes accepted by then.
   */
  async function writeUntilStalled(client: Socket, budget: number): Promise<number> {
    let offered = 0;
    while (offered < budget) {
      const chunk = randomFillSync(Buffer.allocUnsafe(CHUNK));
      offered += chunk.length;
      if (client.write(chunk)) continue;
      for (;;) {
        const before = proxy.stats.bytes_upstream;
        const drained = await Promise.race([
          once(client, 'drain').then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 500)),
        ]);
        if (drained) break;
        if (proxy.stats.bytes_upstream === before)
          return client.bytesWritten - client.writableLength;
      }
    }
    throw new Error(
      `the writer pushed ${budget / MIB} MiB into a reader that never reads: no backpressure`,
    );
  }

  for (const withToxic of [false, true]) {
    it(
      `keeps memory bounded ${withToxic ? 'with a latency toxic holding data' : 'with no toxic'}`,
      { timeout: 120_000 },
      async () => {
        const toxic = withToxic
          ? proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 50 } })
          : undefined;
        const baseline = process.memoryUsage().arrayBuffers;
        const connection = once(sink, 'connection') as Promise<[Socket]>;
        const client = connect(proxy.port, '127.0.0.1');
        await once(client, 'connect');
        const [reader] = await connection;
        const acceptedBytes = await writeUntilStalled(client, 1024 * MIB);
        const grown = process.memoryUsage().arrayBuffers - baseline;
        // Kernel socket buffers on loopback hold a few MiB per direction; the proxy adds at most
        // its 1 MiB high-water mark per link plus one chunk in flight.
        assert.ok(
          acceptedBytes < 48 * MIB,
          `the writer got ${(acceptedBytes / MIB).toFixed(1)} MiB accepted`,
        );
        assert.ok(grown < 32 * MIB, `array buffers grew by ${(grown / MIB).toFixed(1)} MiB`);

        // The reader wakes up: everything written arrives, in order.
        let arrived = 0;
        const allArrived = new Promise<void>((resolve) => {
          reader.on('data', (chunk: Buffer) => {
            arrived += chunk.length;
            if (arrived >= acceptedBytes) resolve();
          });
        });
        reader.resume();
        await allArrived;
        assert.ok(arrived >= acceptedBytes);
        client.destroy();
        reader.destroy();
        if (toxic) proxy.removeToxic(toxic.name);
      },
    );
  }
});
