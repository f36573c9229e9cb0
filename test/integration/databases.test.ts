// The proxy in front of the machine's real PostgreSQL (127.0.0.1:5432) and Redis
// (127.0.0.1:6379), driven by clients nobody here wrote (pg, ioredis). Only the proxy is
// faulted: the servers themselves are never stopped or reconfigured, and the only data written
// is one Redis key of this test's own, deleted afterwards.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { ProxyCollection, type FaultProxy } from '../../src/index.js';

const PG_UPSTREAM = process.env['FAULTLINE_TEST_PG'] ?? '127.0.0.1:5432';
const REDIS_UPSTREAM = process.env['FAULTLINE_TEST_REDIS'] ?? '127.0.0.1:6379';

function pgClient(proxy: FaultProxy): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: proxy.port,
    user: 'postgres',
    database: 'test',
    connectionTimeoutMillis: 5_000,
  });
}

/** A client that reports errors instead of reconnecting, so a test sees exactly what the fault did. */
function redisClient(proxy: FaultProxy): Redis {
  return new Redis({
    host: '127.0.0.1',
    port: proxy.port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

describe('PostgreSQL through the proxy', () => {
  const proxies = new ProxyCollection({ seed: 11 });
  let proxy: FaultProxy;

  before(async () => {
    proxy = await proxies.create({ name: 'postgres', upstream: PG_UPSTREAM });
  });
  after(() => proxies.close());

  it('runs queries, and a 200 ms latency toxic makes SELECT 1 take at least 200 ms', async () => {
    const client = pgClient(proxy);
    await client.connect();
    try {
      const plain = await timed(() => client.query('SELECT 1 AS one'));
      assert.equal(plain.value.rows[0].one, 1);

      const toxic = proxy.addToxic({ type: 'latency', attributes: { latency: 200 } });
      const slow = await timed(() => client.query('SELECT 1 AS one'));
      assert.equal(slow.value.rows[0].one, 1);
      assert.ok(slow.ms >= 200, `SELECT 1 with 200 ms latency took ${slow.ms.toFixed(1)} ms`);
      assert.ok(
        toxic.stats.connections >= 1 && toxic.stats.bytes > 0,
        'the toxic counts the traffic it touched',
      );

      proxy.removeToxic(toxic.name);
      const fast = await timed(() => client.query('SELECT 1 AS one'));
      assert.ok(fast.ms < 200, `after removal SELECT 1 took ${fast.ms.toFixed(1)} ms`);
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  it('makes pg error when the proxy is disabled, and works again once it is enabled', async () => {
    const client = pgClient(proxy);
    await client.connect();
    const errored = once(client, 'error');
    await proxy.disable();
    try {
      const [error] = (await errored) as [Error];
      assert.match(error.message, /terminated|ECONNRESET|closed/i);
      await assert.rejects(client.query('SELECT 1'));

      const refused = pgClient(proxy);
      await assert.rejects(refused.connect(), /ECONNREFUSED/);
      await refused.end().catch(() => undefined);
    } finally {
      await proxy.start();
    }
    const again = pgClient(proxy);
    await again.connect();
    assert.equal((await again.query('SELECT 2 AS two')).rows[0].two, 2);
    await again.end();
    await client.end().catch(() => undefined);
  });

  it('cuts a large result with limit_data', async () => {
    const client = pgClient(proxy);
    await client.connect();
    client.on('error', () => undefined);
    try {
      // The start-up exchange already happened; allow 64 KiB more of answers, then cut.
      const toxic = proxy.addToxic({
        type: 'limit_data',
        attributes: { bytes: proxy.stats.bytes_downstream + 65_536 },
      });
      const small = await client.query('SELECT 1 AS one');
      assert.equal(small.rows[0].one, 1);
      await assert.rejects(
        client.query("SELECT repeat('x', 1000) AS filler FROM generate_series(1, 2000)"),
        /terminated|ECONNRESET|closed/i,
      );
      assert.ok(toxic.stats.bytes > 0, 'the cut bytes are counted');
      proxy.removeToxic(toxic.name);
    } finally {
      await client.end().catch(() => undefined);
    }
  });
});

describe('Redis through the proxy', () => {
  const proxies = new ProxyCollection({ seed: 12 });
  let proxy: FaultProxy;
  const key = `faultline:test:${process.pid}:${Date.now()}`;

  before(async () => {
    proxy = await proxies.create({ name: 'redis', upstream: REDIS_UPSTREAM });
  });
  after(async () => {
    const direct = new Redis(
      REDIS_UPSTREAM.split(':')[1] ? Number(REDIS_UPSTREAM.split(':')[1]) : 6379,
      '127.0.0.1',
    );
    await direct.del(key);
    direct.disconnect();
    await proxies.close();
  });

  it('carries commands, and latency slows them', async () => {
    const redis = redisClient(proxy);
    await redis.connect();
    try {
      assert.equal(await redis.set(key, 'v1', 'EX', 60), 'OK');
      assert.equal(await redis.get(key), 'v1');
      const toxic = proxy.addToxic({
        type: 'latency',
        attributes: { latency: 150 },
        expires_in: 30,
      });
      const slow = await timed(() => redis.get(key));
      assert.equal(slow.value, 'v1');
      assert.ok(slow.ms >= 150, `GET with 150 ms latency took ${slow.ms.toFixed(1)} ms`);
      proxy.removeToxic(toxic.name);
    } finally {
      redis.disconnect();
    }
  });

  it('gives ioredis a connection reset with reset_peer', async () => {
    const redis = redisClient(proxy);
    await redis.connect();
    const errors: NodeJS.ErrnoException[] = [];
    redis.on('error', (error: NodeJS.ErrnoException) => errors.push(error));
    // events.once would reject on the 'error' event this test expects.
    const closed = new Promise<void>((resolve) => redis.once('close', () => resolve()));
    const toxic = proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 0 } });
    try {
      await assert.rejects(redis.get(key));
      await closed;
      assert.ok(
        errors.some((e) => e.code === 'ECONNRESET'),
        `expected ECONNRESET, got ${errors.map((e) => e.code ?? e.message).join(', ') || 'no error'}`,
      );
      assert.equal(toxic.stats.connections, 1);
    } finally {
      proxy.removeToxic(toxic.name);
      redis.disconnect();
    }
    // The proxy and Redis are fine afterwards.
    const fresh = redisClient(proxy);
    await fresh.connect();
    assert.equal(await fresh.ping(), 'PONG');
    fresh.disconnect();
  });
});
