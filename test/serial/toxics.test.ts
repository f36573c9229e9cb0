// Behaviour of every toxic on real loopback sockets, through the in-process API.
//
// Each test creates its own proxy in front of a "switchboard" TCP server whose accepted sockets
// the test drives directly (so the bytes of each direction can be written and timed on either
// side), an echo server, or a small HTTP server. Tests wait for socket events, not for sleeps;
// the only fixed waits check that something does NOT happen, or pace writes. Timing bounds are
// strict below (a toxic can never make things faster) and loose above (a shared, noisy machine).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  Agent,
  createServer as createHttpServer,
  request as httpRequest,
  type Server as HttpServer,
} from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  isFaultlineError,
  ProxyCollection,
  ValidationError,
  type FaultProxy,
  type ProxyMode,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';

/** A TCP server whose accepted sockets are handed to the test, one promise per connection. */
class Switchboard {
  readonly server: Server;
  private readonly waiting: Array<(socket: Socket) => void> = [];
  private readonly accepted: Socket[] = [];
  readonly all = new Set<Socket>();

  constructor() {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      socket.on('error', () => undefined);
      this.all.add(socket);
      socket.once('close', () => this.all.delete(socket));
      const waiter = this.waiting.shift();
      if (waiter) waiter(socket);
      else this.accepted.push(socket);
    });
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next connection the server accepts (the upstream side of a proxied connection). */
  next(): Promise<Socket> {
    const ready = this.accepted.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.all) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Sockets the tests opened, destroyed in after() whatever happened. */
const clients = new Set<Socket>();

/** Connects to a proxy; resolves once the TCP handshake is done. */
async function dial(proxy: FaultProxy): Promise<Socket> {
  const socket = connect({
    port: proxy.port,
    host: '127.0.0.1',
    allowHalfOpen: true,
    noDelay: true,
  });
  clients.add(socket);
  socket.once('close', () => clients.delete(socket));
  await once(socket, 'connect');
  return socket;
}

/**
 * Resolves once `socket` has received `n` bytes in total: when (performance.now), the bytes and
 * the number of 'data' events. The socket is paused again afterwards, so nothing is lost before
 * the next call.
 */
function receive(socket: Socket, n: number): Promise<{ at: number; data: Buffer; chunks: number }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    let chunks = 0;
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      length += chunk.length;
      chunks++;
      if (length >= n) {
        cleanup();
        resolve({ at: performance.now(), data: Buffer.concat(parts), chunks });
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`socket closed after ${length} of ${n} bytes`));
    };
    const cleanup = (): void => {
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}

interface Ending {
  data: Buffer;
  chunks: number;
  /** performance.now() of the 'end' event (FIN), if one came. */
  endedAt: number | undefined;
  closedAt: number;
  error: NodeJS.ErrnoException | undefined;
}

/** Everything a socket receives until it closes, when its FIN and its close came, and its error. */
function untilClose(socket: Socket): Promise<Ending> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let chunks = 0;
    let error: NodeJS.ErrnoException | undefined;
    let endedAt: number | undefined;
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      chunks++;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err));
    socket.once('end', () => {
      endedAt = performance.now();
      // Half-open sockets: our side closes once the test is done with it.
      if (socket.allowHalfOpen) socket.end();
    });
    socket.once('close', () =>
      resolve({ data: Buffer.concat(parts), chunks, endedAt, closedAt: performance.now(), error }),
    );
    socket.resume();
  });
}

/** Writes `payload` and resolves with the time until as many bytes came back (echo upstream). */
async function roundTrip(socket: Socket, payload: string | Buffer = 'x'): Promise<number> {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const got = receive(socket, length);
  const start = performance.now();
  socket.write(payload);
  const { at, data } = await got;
  assert.deepEqual(data, typeof payload === 'string' ? Buffer.from(payload) : payload);
  return at - start;
}

/** A pattern of `n` bytes whose order can be checked. */
function pattern(n: number, seed = 0): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return buf;
}

/** A fixed wait: only to give something the chance to happen that must NOT happen, or to pace writes. */
/** Options for every test: none may hang the file. */
const T = { timeout: 5_000 };

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Records the process warnings (TimeoutOverflowWarning, …) emitted until stop() is called. */
function captureWarnings(): { stop(): string[] } {
  const seen: string[] = [];
  const onWarning = (warning: Error): void => {
    seen.push(`${warning.name}: ${warning.message}`);
  };
  process.on('warning', onWarning);
  return {
    stop: () => {
      process.off('warning', onWarning);
      return seen;
    },
  };
}

/** Asserts that `fn` throws a faultline ValidationError and returns it. */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(isFaultlineError(err), `expected a faultline error, got ${String(err)}`);
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${err.name}`);
    assert.equal(err.code, 'E_VALIDATION');
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail('expected a ValidationError, nothing was thrown');
}

interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
  localPort: number;
}

/** One HTTP request through a proxy. */
function httpCall(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    agent: Agent;
  },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        // Read now: a keep-alive agent takes the socket back before 'end'.
        const localPort = res.socket.localPort ?? 0;
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(parts).toString(),
            headers: res.headers,
            ms: performance.now() - start,
            localPort,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('toxics on real sockets', () => {
  let proxies: ProxyCollection;
  let board: Switchboard;
  let boardAddress: string;
  let echo: Server;
  let echoAddress: string;
  let web: HttpServer;
  let webAddress: string;
  /** Requests the HTTP upstream saw, as "METHOD /path". */
  const webSeen: string[] = [];
  const agents: Agent[] = [];
  const extraCollections: ProxyCollection[] = [];
  let proxyCount = 0;

  before(async () => {
    proxies = new ProxyCollection({ seed: 42 });
    board = new Switchboard();
    boardAddress = await board.listen();
    echo = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    echoAddress = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
    web = createHttpServer((req, res) => {
      const line = `${req.method} ${req.url}`;
      webSeen.push(line);
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream: ${line}`),
      );
    });
    web.listen(0, '127.0.0.1');
    await once(web, 'listening');
    webAddress = `127.0.0.1:${(web.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const socket of clients) socket.destroy();
    for (const agent of agents) agent.destroy();
    await Promise.all([proxies.close(), ...extraCollections.map((c) => c.close())]);
    await board.close();
    echo.close();
    web.closeAllConnections();
    web.close();
  });

  /** A fresh proxy (unique name) in front of the switchboard, the echo server or the HTTP server. */
  function proxyTo(upstream: 'board' | 'echo' | 'web', collection = proxies): Promise<FaultProxy> {
    const address =
      upstream === 'board' ? boardAddress : upstream === 'echo' ? echoAddress : webAddress;
    const mode: ProxyMode = upstream === 'web' ? 'http' : 'tcp';
    return collection.create({ name: `p${++proxyCount}`, upstream: address, mode });
  }

  /** A client through `proxy` and the switchboard's socket for the same connection. */
  async function pair(proxy: FaultProxy): Promise<{ client: Socket; server: Socket }> {
    const server = board.next();
    const client = await dial(proxy);
    return { client, server: await server };
  }

  function keepAliveAgent(maxSockets = 1): Agent {
    const agent = new Agent({ keepAlive: true, maxSockets });
    agents.push(agent);
    return agent;
  }

  // --- latency ------------------------------------------------------------------------------

  describe('latency', () => {
    it('delays each downstream chunk by the latency, without capping throughput', T, async () => {
      const proxy = await proxyTo('board');
      proxy.addToxic({ type: 'latency', attributes: { latency: 100 } });
      const { client, server } = await pair(proxy);
      const arrivals: number[] = [];
      const sent: number[] = [];
      // Each chunk is 6 bytes; its arrival is when the byte count passes its end (two chunks
      // read together under load still get their own, identical, arrival times).
      const got = new Promise<void>((resolve) => {
        let bytes = 0;
        client.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          while (arrivals.length < Math.floor(bytes / 6)) arrivals.push(performance.now());
          if (arrivals.length === 5) resolve();
        });
      });
      const start = performance.now();
      for (let i = 0; i < 5; i++) {
        sent.push(performance.now());
        server.write(`chunk${i}`);
        if (i < 4) await pause(40);
      }
      await got;
      for (let i = 0; i < 5; i++) {
        const delay = arrivals[i]! - sent[i]!;
        assert.ok(
          delay >= 99,
          `chunk ${i} arrived after ${delay.toFixed(1)} ms (< 100 ms latency)`,
        );
        assert.ok(delay < 400, `chunk ${i} arrived after ${delay.toFixed(1)} ms`);
      }
      // Per chunk, from when it was read: 5 chunks 40 ms apart take ~260 ms, not 5 × 100 ms.
      const total = arrivals[4]! - start;
      assert.ok(total < 480, `5 chunks took ${total.toFixed(1)} ms: latency is capping throughput`);
    });

    it(
      'delays each upstream chunk by the latency, and leaves the other direction alone',
      T,
      async () => {
        const proxy = await proxyTo('board');
        proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 80 } });
        const { client, server } = await pair(proxy);
        for (let i = 0; i < 3; i++) {
          const got = receive(server, 6);
          const start = performance.now();
          client.write(`up-${i}..`.slice(0, 6));
          const delay = (await got).at - start;
          assert.ok(
            delay >= 79,
            `upstream chunk ${i} took ${delay.toFixed(1)} ms (< 80 ms latency)`,
          );
          assert.ok(delay < 400, `upstream chunk ${i} took ${delay.toFixed(1)} ms`);
        }
        const got = receive(client, 4);
        const start = performance.now();
        server.write('down');
        const downstream = (await got).at - start;
        assert.ok(downstream < 60, `downstream (no toxic) took ${downstream.toFixed(1)} ms`);
      },
    );

    it('keeps every delay within latency ± jitter, and the jitter varies', T, async () => {
      const proxy = await proxyTo('board');
      proxy.addToxic({ type: 'latency', attributes: { latency: 60, jitter: 40 } });
      const { client, server } = await pair(proxy);
      const delays: number[] = [];
      for (let i = 0; i < 15; i++) {
        const got = receive(client, 1);
        const start = performance.now();
        server.write('j');
        delays.push((await got).at - start);
      }
      const min = Math.min(...delays);
      const max = Math.max(...delays);
      assert.ok(min >= 19, `a delay of ${min.toFixed(1)} ms is below latency - jitter (20 ms)`);
      assert.ok(
        max < 100 + 150,
        `a delay of ${max.toFixed(1)} ms is far above latency + jitter (100 ms)`,
      );
      assert.ok(
        max - min >= 10,
        `delays ${delays.map((d) => d.toFixed(0)).join(',')} barely vary: no jitter`,
      );
    });

    it('keeps bytes in order, even when jitter exceeds the gap between chunks', T, async () => {
      const proxy = await proxyTo('board');
      const toxic = proxy.addToxic({ type: 'latency', attributes: { latency: 5, jitter: 20 } });
      const { client, server } = await pair(proxy);
      const payload = pattern(50 * 200, 3);
      const got = receive(client, payload.length);
      for (let i = 0; i < 50; i++) {
        server.write(payload.subarray(i * 200, (i + 1) * 200));
        if (i % 5 === 4) await pause(1);
      }
      const { data, chunks } = await got;
      assert.ok(data.equals(payload), 'bytes arrived reordered or altered');
      assert.ok(chunks > 1);
      assert.equal(toxic.stats.bytes, payload.length);
      assert.equal(toxic.stats.connections, 1);
    });
  });

  // --- bandwidth ----------------------------------------------------------------------------

  describe('bandwidth', () => {
    it('limits downstream throughput to rate KB/s (100 KB at 100 KB/s ≈ 1 s)', T, async () => {
      const proxy = await proxyTo('board');
      proxy.addToxic({ type: 'bandwidth', attributes: { rate: 100 } });
      const { client, server } = await pair(proxy);
      const payload = pattern(100_000, 1);
      const got = receive(client, payload.length);
      const start = performance.now();
      server.write(payload);
      const { at, data } = await got;
      const elapsed = at - start;
      assert.ok(data.equals(payload), 'throttled bytes were altered');
      // 1000 ms expected: ±15 % below (a throttle can never be faster), looser above.
      assert.ok(elapsed >= 850, `100 KB at 100 KB/s took ${elapsed.toFixed(0)} ms (too fast)`);
      assert.ok(elapsed <= 1400, `100 KB at 100 KB/s took ${elapsed.toFixed(0)} ms (too slow)`);
    });

    it('limits upstream throughput too (100 KB at 200 KB/s ≈ 0.5 s)', T, async () => {
      const proxy = await proxyTo('board');
      proxy.addToxic({ type: 'bandwidth', stream: 'upstream', attributes: { rate: 200 } });
      const { client, server } = await pair(proxy);
      const payload = pattern(100_000, 2);
      const got = receive(server, payload.length);
      const start = performance.now();
      client.write(payload);
      const { at, data } = await got;
      const elapsed = at - start;
      assert.ok(data.equals(payload));
      assert.ok(elapsed >= 425, `100 KB at 200 KB/s took ${elapsed.toFixed(0)} ms (too fast)`);
      assert.ok(elapsed <= 900, `100 KB at 200 KB/s took ${elapsed.toFixed(0)} ms (too slow)`);
    });

    // Bug fixed in src/engines/proxy/toxics/timed-queue.ts: a stalled entry (due at +Infinity) was
    // handed to setTimeout, which Node clamps to 1 ms with a TimeoutOverflowWarning printed on
    // the user's stderr for every stalled stream and every live update to rate 0. arm() now
    // leaves stalled entries to update()/drain(). These two tests check that no warning is left.
    it(
      'stalls the stream (data and EOF) at rate 0, and releases everything when removed',
      T,
      async () => {
        const warnings = captureWarnings();
        try {
          const proxy = await proxyTo('board');
          const toxic = proxy.addToxic({ type: 'bandwidth', attributes: { rate: 0 } });
          const { client, server } = await pair(proxy);
          const ending = untilClose(client);
          const payload = pattern(5000, 4);
          server.end(payload);
          await pause(300);
          assert.equal(client.bytesRead, 0, 'bytes passed a bandwidth toxic at rate 0');
          assert.equal(client.readableEnded, false, 'EOF passed a bandwidth toxic at rate 0');
          assert.equal(
            toxic.stats.bytes,
            payload.length,
            'the stalled bytes are counted as touched',
          );
          const removedAt = performance.now();
          proxy.removeToxic(toxic.name);
          client.end();
          const { data, endedAt } = await ending;
          assert.ok(data.equals(payload), 'stalled bytes were lost or altered on removal');
          assert.ok(
            endedAt !== undefined && endedAt - removedAt < 300,
            'EOF was not released with the data',
          );
        } finally {
          assert.deepEqual(warnings.stop(), [], 'the stalled stream printed process warnings');
        }
      },
    );

    it('re-times a live stream when the rate is updated (0 → 100 KB/s → 0)', T, async () => {
      const warnings = captureWarnings();
      try {
        const proxy = await proxyTo('board');
        proxy.addToxic({ name: 'bw', type: 'bandwidth', attributes: { rate: 0 } });
        const { client, server } = await pair(proxy);
        const first = pattern(20_000, 11);
        const got = receive(client, first.length);
        server.write(first);
        await waitFor(
          'the proxy to read the stalled bytes',
          () => proxy.stats.bytes_downstream === first.length,
          { timeoutMs: 2_000, intervalMs: 5 },
        );
        const start = performance.now();
        proxy.updateToxic('bw', { attributes: { rate: 100 } });
        const { at, data } = await got;
        const elapsed = at - start;
        assert.ok(data.equals(first));
        // 20 KB at 100 KB/s: 200 ms.
        assert.ok(elapsed >= 170, `20 KB at 100 KB/s took ${elapsed.toFixed(0)} ms`);
        assert.ok(elapsed < 700, `20 KB at 100 KB/s took ${elapsed.toFixed(0)} ms`);
        proxy.updateToxic('bw', { attributes: { rate: 0 } });
        server.write('stuck');
        await pause(250);
        assert.equal(client.bytesRead, first.length, 'bytes passed after the rate went back to 0');
      } finally {
        assert.deepEqual(warnings.stop(), [], 'the stalled stream printed process warnings');
      }
    });
  });

  // --- slicer -------------------------------------------------------------------------------

  describe('slicer', () => {
    it('delivers data in many small chunks, intact and in order', T, async () => {
      const proxy = await proxyTo('board');
      const { client, server } = await pair(proxy);
      // Without the toxic, a 1000-byte write arrives in one read or very few.
      const plain = pattern(1000, 5);
      const baseline = receive(client, plain.length);
      server.write(plain);
      assert.ok((await baseline).chunks <= 3);
      // With it (added to the live connection), in ~10-byte pieces 2 ms apart: ~100 pieces. A
      // busy event loop lets several pieces leave together and be read at once, hence the margin.
      const toxic = proxy.addToxic({
        type: 'slicer',
        attributes: { average_size: 10, size_variation: 4, delay: 2000 },
      });
      const payload = pattern(1000, 6);
      const got = receive(client, payload.length);
      server.write(payload);
      const { data, chunks } = await got;
      assert.ok(data.equals(payload), 'sliced bytes were altered or reordered');
      assert.ok(chunks > 25, `only ${chunks} 'data' events for 1000 bytes in ~10-byte slices`);
      assert.equal(toxic.stats.bytes, payload.length);
    });
  });

  // --- slow_close ---------------------------------------------------------------------------

  describe('slow_close', () => {
    it('delays the close (FIN) by the given delay, not the data', T, async () => {
      const proxy = await proxyTo('board');
      const toxic = proxy.addToxic({ type: 'slow_close', attributes: { delay: 300 } });
      const { client, server } = await pair(proxy);
      const ending = untilClose(client);
      const dataAt = receive(client, 3);
      const start = performance.now();
      server.end('bye');
      const data = (await dataAt).at - start;
      client.resume();
      const { endedAt } = await ending;
      assert.ok(data < 150, `data took ${data.toFixed(0)} ms: slow_close must not delay it`);
      assert.ok(endedAt !== undefined, 'no FIN reached the client');
      const closeDelay = endedAt - start;
      assert.ok(closeDelay >= 299, `the close came after ${closeDelay.toFixed(0)} ms (< 300 ms)`);
      assert.ok(closeDelay < 900, `the close came after ${closeDelay.toFixed(0)} ms`);
      assert.equal(toxic.stats.connections, 1);

      // Without the toxic, the close is immediate.
      proxy.removeToxic(toxic.name);
      const second = await pair(proxy);
      const secondEnding = untilClose(second.client);
      const secondStart = performance.now();
      second.server.end();
      const { endedAt: secondEnded } = await secondEnding;
      assert.ok(secondEnded !== undefined && secondEnded - secondStart < 150);
    });
  });

  // --- timeout ------------------------------------------------------------------------------

  describe('timeout', () => {
    it(
      'with timeout > 0: passes no data and closes the connection after timeout ms',
      T,
      async () => {
        const proxy = await proxyTo('board');
        const toxic = proxy.addToxic({ type: 'timeout', attributes: { timeout: 300 } });
        const start = performance.now();
        const { client, server } = await pair(proxy);
        const ending = untilClose(client);
        // The other direction still flows.
        const up = receive(server, 4);
        client.write('ping');
        await up;
        server.write('pong');
        const { data, closedAt } = await ending;
        assert.equal(data.length, 0, 'data passed a timeout toxic');
        const elapsed = closedAt - start;
        assert.ok(elapsed >= 299, `closed after ${elapsed.toFixed(0)} ms (< 300 ms)`);
        assert.ok(elapsed < 1000, `closed after ${elapsed.toFixed(0)} ms`);
        assert.equal(toxic.stats.connections, 1);
        assert.equal(toxic.stats.bytes, 4);
      },
    );

    it(
      'with timeout 0: never closes; on removal, connections that lost data close and the others flow',
      T,
      async () => {
        // timeout.ts: bytes are dropped (not queued) while the toxic is there; removing it closes
        // the connections on which it dropped bytes (their stream is corrupt) and leaves the
        // connections on which it dropped nothing carrying on; new connections work.
        const proxy = await proxyTo('board');
        const toxic = proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
        const lossy = await pair(proxy);
        const idle = await pair(proxy);
        const lossyEnding = untilClose(lossy.client);
        lossy.server.write('lost');
        await pause(400);
        assert.equal(lossy.client.bytesRead, 0, 'data passed a timeout toxic');
        assert.equal(lossy.client.destroyed, false, 'timeout 0 closed the connection');
        assert.equal(toxic.stats.bytes, 4);
        proxy.removeToxic(toxic.name);
        const { data } = await lossyEnding;
        assert.equal(data.length, 0);
        // The idle connection was never harmed: data flows both ways at once.
        const down = receive(idle.client, 5);
        idle.server.write('hello');
        assert.equal((await down).data.toString(), 'hello');
        const up = receive(idle.server, 3);
        idle.client.write('hey');
        assert.equal((await up).data.toString(), 'hey');
        // And a new connection too.
        const fresh = await pair(proxy);
        const again = receive(fresh.client, 2);
        fresh.server.write('ok');
        assert.equal((await again).data.toString(), 'ok');
      },
    );
  });

  // --- reset_peer ---------------------------------------------------------------------------

  describe('reset_peer', () => {
    it('resets the connection (ECONNRESET) timeout ms after the first data', T, async () => {
      const proxy = await proxyTo('board');
      const toxic = proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 200 } });
      const { client, server } = await pair(proxy);
      const ending = untilClose(client);
      const serverEnding = untilClose(server);
      // Idle connections are not reset.
      await pause(250);
      assert.equal(client.destroyed, false, 'an idle connection was reset');
      const start = performance.now();
      server.write('trigger');
      const { data, error, closedAt } = await ending;
      assert.equal(error?.code, 'ECONNRESET', `client saw ${error?.code ?? 'a clean close'}`);
      assert.equal(data.length, 0, 'the triggering chunk was delivered');
      const elapsed = closedAt - start;
      assert.ok(elapsed >= 199, `reset after ${elapsed.toFixed(0)} ms (< 200 ms)`);
      assert.ok(elapsed < 800, `reset after ${elapsed.toFixed(0)} ms`);
      assert.equal((await serverEnding).error?.code, 'ECONNRESET', 'the upstream was not reset');
      assert.equal(toxic.stats.connections, 1);
    });
  });

  // --- limit_data ---------------------------------------------------------------------------

  describe('limit_data', () => {
    it('closes the connection after exactly `bytes` bytes downstream', T, async () => {
      const proxy = await proxyTo('board');
      const toxic = proxy.addToxic({ type: 'limit_data', attributes: { bytes: 1000 } });
      const { client, server } = await pair(proxy);
      const ending = untilClose(client);
      const payload = pattern(5000, 7);
      server.write(payload);
      const { data, error } = await ending;
      assert.equal(error, undefined, `the client saw ${error?.code}`);
      assert.equal(data.length, 1000);
      assert.ok(data.equals(payload.subarray(0, 1000)));
      assert.equal(toxic.stats.connections, 1);
      assert.ok(
        toxic.stats.bytes > 0 && toxic.stats.bytes <= 4000,
        `cut bytes counted: ${toxic.stats.bytes}`,
      );
    });

    it('counts across chunks and works upstream', T, async () => {
      const proxy = await proxyTo('board');
      proxy.addToxic({ type: 'limit_data', stream: 'upstream', attributes: { bytes: 250 } });
      const { client, server } = await pair(proxy);
      const serverEnding = untilClose(server);
      const payload = pattern(300, 8);
      for (let i = 0; i < 3; i++) {
        client.write(payload.subarray(i * 100, (i + 1) * 100));
        if (i < 2)
          await waitFor(`chunk ${i} upstream`, () => server.bytesRead >= (i + 1) * 100, {
            timeoutMs: 2_000,
            intervalMs: 5,
          });
      }
      const { data } = await serverEnding;
      assert.equal(data.length, 250);
      assert.ok(data.equals(payload.subarray(0, 250)));
    });

    it(
      'passes exactly `bytes` bytes of a large transfer to a slow reader before closing',
      T,
      async () => {
        const proxy = await proxyTo('board');
        proxy.addToxic({ type: 'limit_data', attributes: { bytes: 3_000_000 } });
        const { client, server } = await pair(proxy);
        // A reader that does not read for a while: the proxy's writes to it back up, and the close
        // at the limit must not throw away what is still buffered.
        client.pause();
        const payload = pattern(4_000_000, 9);
        server.write(payload);
        await pause(200);
        const { data, error } = await untilClose(client);
        assert.equal(error, undefined, `the client saw ${error?.code}`);
        assert.equal(
          data.length,
          3_000_000,
          `the client got ${data.length} bytes of a 3 000 000-byte limit`,
        );
        assert.ok(data.equals(payload.subarray(0, 3_000_000)));
      },
    );
  });

  // --- connect toxics -----------------------------------------------------------------------

  describe('connect toxics', () => {
    it('connect_delay delays the upstream connection and the first byte', T, async () => {
      const proxy = await proxyTo('board');
      const toxic = proxy.addToxic({ type: 'connect_delay', attributes: { delay: 300 } });
      const start = performance.now();
      const upstreamSide = board.next();
      const client = await dial(proxy);
      const firstByte = receive(client, 7);
      client.write('early');
      const server = await upstreamSide;
      const dialled = performance.now() - start;
      server.write('welcome');
      const firstByteAt = (await firstByte).at - start;
      assert.ok(dialled >= 299, `upstream dialled after ${dialled.toFixed(0)} ms (< 300 ms)`);
      assert.ok(dialled < 1000, `upstream dialled after ${dialled.toFixed(0)} ms`);
      assert.ok(firstByteAt >= 299, `first byte after ${firstByteAt.toFixed(0)} ms`);
      // What the client sent before was kept, not lost.
      assert.equal((await receive(server, 5)).data.toString(), 'early');
      assert.equal(toxic.stats.connections, 1);
    });

    it(
      'refuse resets new connections, leaves open ones alone, and stops when removed',
      T,
      async () => {
        const proxy = await proxyTo('echo');
        const before = await dial(proxy);
        assert.ok((await roundTrip(before, 'a')) < 200);
        const toxic = proxy.addToxic({ type: 'refuse' });
        for (let i = 0; i < 3; i++) {
          const socket = connect({ port: proxy.port, host: '127.0.0.1' });
          clients.add(socket);
          const { error, data } = await untilClose(socket);
          assert.equal(
            error?.code,
            'ECONNRESET',
            `refused connection ${i} saw ${error?.code ?? 'a clean close'}`,
          );
          assert.equal(data.length, 0);
        }
        assert.equal(toxic.stats.connections, 3);
        assert.ok((await roundTrip(before, 'still here')) < 200, 'an open connection was affected');
        proxy.removeToxic(toxic.name);
        const after = await dial(proxy);
        assert.ok((await roundTrip(after, 'back')) < 200);
      },
    );

    it(
      'blackhole accepts and never answers; removing it closes those and lets new connections work',
      T,
      async () => {
        const proxy = await proxyTo('echo');
        const toxic = proxy.addToxic({ type: 'blackhole' });
        const swallowed = await dial(proxy);
        const ending = untilClose(swallowed);
        swallowed.write('anyone there?');
        await pause(300);
        assert.equal(swallowed.bytesRead, 0, 'a blackholed connection got an answer');
        assert.equal(swallowed.destroyed, false, 'a blackholed connection was closed');
        assert.equal(toxic.stats.connections, 1);
        assert.equal(toxic.stats.bytes, 'anyone there?'.length);
        proxy.removeToxic(toxic.name);
        const { data } = await ending;
        assert.equal(data.length, 0);
        const fresh = await dial(proxy);
        assert.ok((await roundTrip(fresh, 'hello')) < 200);
      },
    );
  });

  // --- HTTP mode ----------------------------------------------------------------------------

  describe('HTTP mode', () => {
    it(
      'http_abort answers with its status and body, only for requests matching method, path_prefix and headers',
      T,
      async () => {
        const proxy = await proxyTo('web');
        const toxic = proxy.addToxic({
          name: 'teapot',
          type: 'http_abort',
          attributes: {
            status: 418,
            body: 'short and stout',
            content_type: 'text/x-teapot',
            method: 'POST',
            path_prefix: '/pay',
            headers: { 'x-chaos': 'on' },
          },
        });
        const agent = keepAliveAgent(1);
        webSeen.length = 0;
        const hit = await httpCall(proxy.port, {
          method: 'POST',
          path: '/pay/1',
          headers: { 'x-chaos': 'on' },
          body: 'amount=1',
          agent,
        });
        assert.equal(hit.status, 418);
        assert.equal(hit.body, 'short and stout');
        assert.equal(hit.headers['content-type'], 'text/x-teapot');
        assert.equal(hit.headers['x-faultline-fault'], 'teapot');
        const misses: Array<{ method: string; path: string; headers: Record<string, string> }> = [
          { method: 'GET', path: '/pay/2', headers: { 'x-chaos': 'on' } },
          { method: 'POST', path: '/other', headers: { 'x-chaos': 'on' } },
          { method: 'POST', path: '/pay/3', headers: {} },
          { method: 'POST', path: '/pay/4', headers: { 'x-chaos': 'off' } },
        ];
        for (const miss of misses) {
          const res = await httpCall(proxy.port, { ...miss, agent });
          assert.equal(res.status, 200, `${miss.method} ${miss.path} was aborted`);
          assert.equal(res.body, `upstream: ${miss.method} ${miss.path}`);
          assert.equal(res.headers['x-faultline-fault'], undefined);
        }
        assert.deepEqual(
          webSeen,
          misses.map((m) => `${m.method} ${m.path}`),
          'the aborted request reached the upstream',
        );
        assert.equal(toxic.stats.requests, 1);
        assert.equal(toxic.stats.connections, 1);
        assert.equal(toxic.stats.bytes, 'short and stout'.length);
        assert.equal(proxy.stats.requests, 5);
      },
    );

    it(
      'http_delay holds matching requests for the delay and lets others through at once',
      T,
      async () => {
        const proxy = await proxyTo('web');
        const toxic = proxy.addToxic({
          type: 'http_delay',
          attributes: { delay: 300, path_prefix: '/slow' },
        });
        const agent = keepAliveAgent(1);
        const slow = await httpCall(proxy.port, { path: '/slow/thing', agent });
        const fast = await httpCall(proxy.port, { path: '/fast/thing', agent });
        assert.equal(slow.status, 200);
        assert.equal(slow.body, 'upstream: GET /slow/thing');
        assert.ok(slow.ms >= 299, `a delayed request took ${slow.ms.toFixed(0)} ms (< 300 ms)`);
        assert.ok(slow.ms < 1000, `a delayed request took ${slow.ms.toFixed(0)} ms`);
        assert.equal(fast.status, 200);
        assert.ok(fast.ms < 200, `an unmatched request took ${fast.ms.toFixed(0)} ms`);
        assert.equal(toxic.stats.requests, 1);
      },
    );

    it(
      'acts per request on one keep-alive connection where only some requests match',
      T,
      async () => {
        const proxy = await proxyTo('web');
        const toxic = proxy.addToxic({
          type: 'http_abort',
          attributes: { status: 503, path_prefix: '/b' },
        });
        const agent = keepAliveAgent(1);
        webSeen.length = 0;
        const paths = ['/a/1', '/b/1', '/a/2', '/b/2', '/a/3', '/b/3'];
        const results: HttpResult[] = [];
        for (const [i, path] of paths.entries()) {
          // Bodies on some requests: an aborted request's body must be consumed for keep-alive.
          const method = i % 2 === 0 ? 'GET' : 'POST';
          results.push(
            await httpCall(proxy.port, {
              method,
              path,
              agent,
              ...(method === 'POST' ? { body: 'x'.repeat(2000) } : {}),
            }),
          );
        }
        assert.deepEqual(
          results.map((r) => r.status),
          [200, 503, 200, 503, 200, 503],
        );
        assert.equal(
          new Set(results.map((r) => r.localPort)).size,
          1,
          'the requests did not share one connection',
        );
        assert.deepEqual(webSeen, ['GET /a/1', 'GET /a/2', 'GET /a/3']);
        assert.equal(proxy.stats.connections_total, 1);
        assert.equal(proxy.stats.requests, 6);
        assert.equal(toxic.stats.requests, 3);
        assert.equal(toxic.stats.connections, 1);
      },
    );

    it(
      'with toxicity 0.5 and a fixed seed, aborts about half of 200 requests, the same ones every time',
      T,
      async () => {
        const run = async (): Promise<boolean[]> => {
          const collection = new ProxyCollection({ seed: 1234 });
          extraCollections.push(collection);
          const proxy = await proxyTo('web', collection);
          const toxic = proxy.addToxic({
            type: 'http_abort',
            toxicity: 0.5,
            attributes: { status: 500 },
          });
          const agent = keepAliveAgent(1);
          const aborted: boolean[] = [];
          for (let i = 0; i < 200; i++) {
            const res = await httpCall(proxy.port, { path: `/r/${i}`, agent });
            aborted.push(res.status === 500);
          }
          const count = aborted.filter(Boolean).length;
          assert.equal(toxic.stats.requests, count);
          assert.equal(proxy.stats.requests, 200);
          await collection.close();
          return aborted;
        };
        const first = await run();
        const count = first.filter(Boolean).length;
        assert.ok(count >= 60 && count <= 140, `${count} of 200 requests aborted at toxicity 0.5`);
        assert.deepEqual(await run(), first, 'the same seed made different decisions');
      },
    );
  });

  // --- toxicity -----------------------------------------------------------------------------

  describe('toxicity', () => {
    /** Opens `n` connections (20 at a time), one round trip each; returns each round trip's time. */
    async function roundTrips(proxy: FaultProxy, n: number): Promise<number[]> {
      const times: number[] = [];
      for (let done = 0; done < n; done += 20) {
        const batch = Array.from({ length: Math.min(20, n - done) }, async () => {
          const socket = await dial(proxy);
          const ms = await roundTrip(socket, 'ping');
          socket.destroy();
          return ms;
        });
        times.push(...(await Promise.all(batch)));
      }
      return times;
    }

    it('toxicity 0 affects no connection', T, async () => {
      const proxy = await proxyTo('echo');
      const toxic = proxy.addToxic({ type: 'latency', toxicity: 0, attributes: { latency: 500 } });
      const times = await roundTrips(proxy, 20);
      assert.ok(Math.max(...times) < 300, 'a connection was delayed by a toxic at toxicity 0');
      assert.equal(toxic.stats.connections, 0);
      assert.equal(toxic.stats.bytes, 0);
    });

    it('toxicity 1 affects every connection', T, async () => {
      const proxy = await proxyTo('echo');
      const toxic = proxy.addToxic({ type: 'latency', toxicity: 1, attributes: { latency: 50 } });
      const times = await roundTrips(proxy, 20);
      assert.ok(Math.min(...times) >= 49, 'a connection escaped a toxic at toxicity 1');
      assert.equal(toxic.stats.connections, 20);
      assert.equal(toxic.stats.bytes, 20 * 4);
    });

    it('toxicity 0.5 affects roughly half of 200 connections (stream toxic)', T, async () => {
      const proxy = await proxyTo('echo');
      const toxic = proxy.addToxic({
        type: 'latency',
        toxicity: 0.5,
        attributes: { latency: 100 },
      });
      const times = await roundTrips(proxy, 200);
      const affected = toxic.stats.connections;
      assert.ok(
        affected >= 60 && affected <= 140,
        `${affected} of 200 connections affected at toxicity 0.5`,
      );
      // Timing agrees with the counter. Strictly: an affected connection is never fast, so at
      // most 200 - affected round trips are under the latency. Loosely (noise can slow an
      // unaffected one): not many more slow round trips than affected connections.
      const fast = times.filter((t) => t < 99).length;
      assert.ok(
        fast <= 200 - affected,
        `${fast} fast round trips, but ${affected} of 200 connections affected`,
      );
      assert.ok(
        fast >= 200 - affected - 25,
        `only ${fast} fast round trips for ${200 - affected} unaffected connections`,
      );
    });

    it('toxicity 0.5 affects roughly half of 200 new connections (connect toxic)', T, async () => {
      const proxy = await proxyTo('echo');
      const toxic = proxy.addToxic({
        type: 'connect_delay',
        toxicity: 0.5,
        attributes: { delay: 1 },
      });
      await roundTrips(proxy, 200);
      const affected = toxic.stats.connections;
      assert.ok(
        affected >= 60 && affected <= 140,
        `${affected} of 200 connections affected at toxicity 0.5`,
      );
    });
  });

  // --- live changes -------------------------------------------------------------------------

  describe('changes on an open connection', () => {
    it('adding, updating and removing a toxic takes effect for the next bytes', T, async () => {
      const proxy = await proxyTo('echo');
      const client = await dial(proxy);
      assert.ok((await roundTrip(client)) < 100);
      proxy.addToxic({ name: 'lag', type: 'latency', attributes: { latency: 150 } });
      const slow = await roundTrip(client);
      assert.ok(
        slow >= 149 && slow < 600,
        `round trip after adding 150 ms latency: ${slow.toFixed(0)} ms`,
      );
      proxy.updateToxic('lag', { attributes: { latency: 250 } });
      const slower = await roundTrip(client);
      assert.ok(
        slower >= 249 && slower < 800,
        `round trip after updating to 250 ms: ${slower.toFixed(0)} ms`,
      );
      proxy.removeToxic('lag');
      const fast = await roundTrip(client);
      assert.ok(fast < 100, `round trip after removing the toxic: ${fast.toFixed(0)} ms`);
    });

    it('removing a toxic releases the bytes it holds at once, in order', T, async () => {
      const proxy = await proxyTo('board');
      const { client, server } = await pair(proxy);
      proxy.addToxic({ name: 'long', type: 'latency', attributes: { latency: 5000 } });
      proxy.addToxic({
        name: 'slices',
        type: 'slicer',
        attributes: { average_size: 100, delay: 200_000 },
      });
      const payload = pattern(3000, 10);
      const got = receive(client, payload.length);
      server.write(payload.subarray(0, 1500));
      await pause(50);
      server.write(payload.subarray(1500));
      await pause(100);
      assert.equal(client.bytesRead, 0);
      const removedAt = performance.now();
      proxy.removeToxic('long');
      proxy.removeToxic('slices');
      const { at, data } = await got;
      assert.ok(
        at - removedAt < 300,
        `held bytes took ${(at - removedAt).toFixed(0)} ms after removal`,
      );
      assert.ok(data.equals(payload), 'bytes released on removal were reordered or altered');
    });
  });

  // --- counters -----------------------------------------------------------------------------

  describe('touched-traffic counters', () => {
    it(
      'proxy.stats and toxic.stats count connections and bytes the toxics affected',
      T,
      async () => {
        const proxy = await proxyTo('board');
        const down = proxy.addToxic({ name: 'down', type: 'latency', attributes: { latency: 1 } });
        const spared = proxy.addToxic({
          name: 'spared',
          type: 'latency',
          stream: 'upstream',
          toxicity: 0,
          attributes: { latency: 1 },
        });
        const one = await pair(proxy);
        const two = await pair(proxy);
        const quiet = await pair(proxy);
        assert.equal(proxy.stats.connections_total, 3);
        assert.equal(proxy.stats.connections_active, 3);

        const upBytes = receive(one.server, 123);
        one.client.write(pattern(123));
        await upBytes;
        const downOne = receive(one.client, 1000);
        one.server.write(pattern(1000));
        await downOne;
        const downTwo = receive(two.client, 500);
        two.server.write(pattern(500));
        await downTwo;

        assert.equal(proxy.stats.bytes_upstream, 123);
        assert.equal(proxy.stats.bytes_downstream, 1500);
        // The downstream toxic touched the two connections that carried downstream bytes, not the quiet one.
        assert.deepEqual(down.stats, { connections: 2, bytes: 1500, requests: 0 });
        assert.deepEqual(down.toJSON().stats, { connections: 2, bytes: 1500, requests: 0 });
        assert.deepEqual(spared.stats, { connections: 0, bytes: 0, requests: 0 });

        for (const { client, server } of [one, two, quiet]) {
          client.destroy();
          server.destroy();
        }
        await waitFor(
          'connections_active to drop to 0',
          () => proxy.stats.connections_active === 0,
          { timeoutMs: 2_000, intervalMs: 5 },
        );
        assert.equal(proxy.stats.connections_total, 3);
        assert.equal(proxy.toJSON().stats.bytes_downstream, 1500);
      },
    );

    it('HTTP mode counts requests per proxy and per toxic', T, async () => {
      const proxy = await proxyTo('web');
      const delay = proxy.addToxic({
        type: 'http_delay',
        attributes: { delay: 1, method: 'DELETE' },
      });
      const agent = keepAliveAgent(2);
      await Promise.all([
        httpCall(proxy.port, { path: '/x', agent }),
        httpCall(proxy.port, { method: 'DELETE', path: '/x', agent }),
        httpCall(proxy.port, { method: 'DELETE', path: '/y', agent }),
        httpCall(proxy.port, { path: '/y', agent }),
      ]);
      assert.equal(proxy.stats.requests, 4);
      assert.equal(delay.stats.requests, 2);
      assert.ok(delay.stats.connections >= 1);
      assert.ok(proxy.stats.bytes_downstream > 0);
    });
  });

  // --- validation ---------------------------------------------------------------------------

  describe('validation', () => {
    it(
      'rejects bad toxics with a ValidationError listing every problem, and the proxy keeps working',
      T,
      async () => {
        const proxy = await proxyTo('echo');
        const client = await dial(proxy);

        const unknown = validationError(() =>
          proxy.addToxicJson({ type: 'latncy', stream: 'sideways', toxicity: 2 }),
        );
        assert.deepEqual(
          unknown.issues.map((i) => i.path),
          ['type', 'stream', 'toxicity'],
        );
        assert.equal(unknown.issues[0]!.message, 'invalid toxic type');
        assert.match(unknown.issues[0]!.hint ?? '', /latency/);

        const attributes = validationError(() =>
          proxy.addToxicJson({
            type: 'latency',
            stream: 'sideways',
            attributes: { latency: -5, jitter: 'lots' },
          }),
        );
        assert.deepEqual(attributes.issues.map((i) => i.path).sort(), [
          'attributes.jitter',
          'attributes.latency',
          'stream',
        ]);
        for (const issue of attributes.issues) assert.ok(issue.message.length > 0);
        // Toxiproxy's text for the first problem; every problem is in `issues`.
        assert.equal(
          attributes.message,
          'stream was invalid, can be either upstream or downstream',
        );

        const fractional = validationError(() =>
          proxy.addToxicJson({ type: 'bandwidth', attributes: { rate: 1.5 } }),
        );
        assert.deepEqual(
          fractional.issues.map((i) => i.path),
          ['attributes.rate'],
        );

        // Nothing was added, and traffic still flows.
        assert.equal(proxy.toxics.length, 0);
        assert.ok((await roundTrip(client, 'fine')) < 200);

        // A bad update leaves the toxic as it was.
        const lag = proxy.addToxic({ name: 'lag', type: 'latency', attributes: { latency: 10 } });
        const update = validationError(() =>
          proxy.updateToxicJson('lag', {
            attributes: { latency: 'slow', jitter: -1 },
            toxicity: -0.5,
          }),
        );
        assert.deepEqual(update.issues.map((i) => i.path).sort(), [
          'attributes.jitter',
          'attributes.latency',
          'toxicity',
        ]);
        assert.deepEqual(lag.attributes, { latency: 10, jitter: 0 });
        assert.equal(lag.toxicity, 1);
        const ms = await roundTrip(client, 'still fine');
        assert.ok(ms >= 9 && ms < 300);

        // Request toxics on a TCP proxy: a BadRequestError.
        assert.throws(
          () => proxy.addToxic({ type: 'http_abort' }),
          (err: unknown) => isFaultlineError(err) && err.code === 'E_BAD_REQUEST',
        );
      },
    );

    it('rejects a proxy whose toxics are invalid, with the path of each problem', T, async () => {
      let error: unknown;
      try {
        await proxies.createJson({
          name: 'bad-toxics',
          upstream: echoAddress,
          toxics: [
            { type: 'latency', attributes: { latency: -1 } },
            { type: 'nope' },
            { type: 'slicer', stream: 'up', attributes: { average_size: 'big' } },
          ],
        });
      } catch (err) {
        error = err;
      }
      assert.ok(
        error instanceof ValidationError,
        `expected a ValidationError, got ${String(error)}`,
      );
      assert.deepEqual(
        error.issues.map((i) => i.path),
        [
          'toxics[0].attributes.latency',
          'toxics[1].type',
          'toxics[2].stream',
          'toxics[2].attributes.average_size',
        ],
      );
      assert.equal(proxies.has('bad-toxics'), false);
    });
  });
});
