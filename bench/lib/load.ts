/**
 * The load generator's primitives: each drives one kind of traffic at one port (the upstream
 * itself, or a proxy in front of it) and returns raw figures.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const HOST = '127.0.0.1';
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function header(length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeBigUInt64BE(BigInt(length));
  return h;
}

/** Pushes `bytes` to the sink (through `port`); milliseconds until the sink acknowledged all. */
export async function upload(port: number, bytes: number): Promise<number> {
  const socket = await open(port);
  try {
    return await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', () =>
        reject(new Error('connection closed before the sink acknowledged')),
      );
      const start = performance.now();
      socket.once('data', () => resolve(performance.now() - start));
      socket.write(header(bytes));
      let sent = 0;
      const pump = (): void => {
        while (sent < bytes) {
          const n = Math.min(CHUNK.length, bytes - sent);
          sent += n;
          if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return;
        }
      };
      socket.on('drain', pump);
      pump();
    });
  } finally {
    socket.destroy();
  }
}

/** Asks the source (through `port`) for `bytes`; milliseconds until all arrived. */
export async function download(port: number, bytes: number): Promise<number> {
  const socket = await open(port);
  try {
    return await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', () =>
        reject(new Error(`connection closed after ${got} of ${bytes} bytes`)),
      );
      let got = 0;
      const start = performance.now();
      socket.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got >= bytes) resolve(performance.now() - start);
      });
      socket.write(header(bytes));
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Round trips of `size` bytes on one connection to an echo server: `warmup` unrecorded, then
 * `count` recorded. Returns the round trip times in microseconds.
 */
export async function pingPong(
  port: number,
  count: number,
  warmup: number,
  size = 64,
): Promise<Float64Array> {
  const socket = await open(port);
  const payload = Buffer.alloc(size, 0x70);
  const samples = new Float64Array(count);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('echo connection closed')));
      let i = -warmup;
      let got = 0;
      let start = 0;
      const send = (): void => {
        got = 0;
        start = performance.now();
        socket.write(payload);
      };
      socket.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got < size) return;
        const elapsed = performance.now() - start;
        if (i >= 0) samples[i] = elapsed * 1000;
        i++;
        if (i >= count) resolve();
        else send();
      });
      send();
    });
  } finally {
    socket.destroy();
  }
  return samples;
}

/**
 * `connections` concurrent connections, each doing `rounds` round trips of `size` bytes
 * (after `warmup`) as fast as the echo answers. Returns every round trip in milliseconds.
 */
export async function concurrentRoundTrips(
  port: number,
  connections: number,
  rounds: number,
  warmup: number,
  size = 64,
): Promise<number[]> {
  const all: number[] = [];
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      // Stagger the starts so the connections do not move in lockstep.
      await new Promise((resolve) => setTimeout(resolve, (c * 7) % 50));
      const samples = await pingPong(port, rounds, warmup, size);
      for (const s of samples) all.push(s / 1000);
    }),
  );
  return all;
}

export interface ConnectRate {
  /** Completed connect → 1-byte round trip → close cycles. */
  cycles: number;
  errors: number;
  ms: number;
  /** Per-cycle durations, microseconds. */
  cycleUs: number[];
}

/**
 * `concurrency` loops, each: connect, send 1 byte, read the echo, close (destroy: FIN, as a C
 * client's close()), for `durationMs`.
 */
export async function connectRate(
  port: number,
  concurrency: number,
  durationMs: number,
): Promise<ConnectRate> {
  const start = performance.now();
  const deadline = start + durationMs;
  let cycles = 0;
  let errors = 0;
  const cycleUs: number[] = [];
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const socket = connect({ host: HOST, port, noDelay: true });
      socket.once('connect', () => socket.write('x'));
      socket.once('data', () => {
        cycles++;
        cycleUs.push((performance.now() - t0) * 1000);
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        errors++;
        socket.destroy();
        resolve();
      });
      socket.once('close', () => resolve());
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  return { cycles, errors, ms: performance.now() - start, cycleUs };
}
