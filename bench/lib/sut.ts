/**
 * Child process: one system under test, in front of the upstream servers of ./upstream.ts.
 *
 *   node --import tsx bench/lib/sut.ts bare|faultline|delay '{"echo":P,…}' [faultline entry module]
 *
 * - `bare`: the 10-line Node proxy everyone writes first (one per upstream port):
 *       net.createServer(c => { const u = net.connect(up); c.pipe(u); u.pipe(c); })
 *   plus error handlers, without which a reset would crash the process.
 * - `delay`: a reference for the latency toxic, the obvious Node implementation of a 50 ms
 *   delay on the echo port only (`setTimeout(() => c.write(chunk), 50)` per downstream chunk),
 *   to tell the host's timer noise from the toxic's own error.
 * - `faultline`: a ProxyCollection with one TCP proxy per upstream (named echo, sink, source,
 *   stream) and the Toxiproxy-compatible control server on a free port.
 */
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FaultProxy } from '../../src/index.js';
import { cpuMs, cpuSplit, ioCounters, memorySample, serveParent } from './ipc.js';
import type { UpstreamInfo } from './upstream.js';

export type SutMode = 'bare' | 'faultline' | 'delay';

export interface SutInfo {
  mode: SutMode;
  pid: number;
  ports: UpstreamInfo;
  /** Control API URL (faultline only). */
  api?: string;
}

const mode = process.argv[2] as SutMode;
const upstream = JSON.parse(process.argv[3] ?? '{}') as UpstreamInfo;
/**
 * Where faultline is loaded from: its tsc build (what the npm package ships; the default of
 * bench/proxy.ts) or, without this argument, src/ through tsx, whose esbuild transform
 * (`keepNames`) wraps every closure in a `__name()` call and slows object creation down.
 */
const entry = process.argv[4] ?? new URL('../../src/index.ts', import.meta.url).href;
const kinds = ['echo', 'sink', 'source', 'stream'] as const;

/**
 * Event-loop delay of this process between `eldStart` and `eldStop`, in milliseconds beyond the
 * sampling timer's own 5 ms interval (which the histogram includes).
 */
let eld: IntervalHistogram | undefined;
const RESOLUTION_MS = 5;
const loopDelay = {
  eldStart: (): boolean => {
    eld?.disable();
    eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    eld.enable();
    return true;
  },
  eldStop: (): { p50: number; p99: number; max: number; mean: number } => {
    if (!eld) throw new Error('eldStart first');
    eld.disable();
    const h = eld;
    eld = undefined;
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return {
      p50: ms(h.percentile(50)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
      mean: ms(h.mean),
    };
  },
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
}

if (mode === 'bare') {
  // Diagnosis only (BENCH_BARE_BALLAST, see bench/proxy.ts): load and keep faultline's module
  // graph, one module, or plain objects in the bare pipe's process, to tell what makes a
  // process's garbage collection expensive under bulk transfer.
  const ballastKind = process.env['BENCH_BARE_BALLAST'];
  const ballast: unknown =
    ballastKind === 'objects'
      ? Array.from({ length: 60_000 }, (_, i) => ({ i, s: `object ${i}`, a: [i, i + 1, i + 2] }))
      : ballastKind?.startsWith('module:')
        ? await import(ballastKind.slice('module:'.length))
        : ballastKind
          ? await import(entry)
          : undefined;
  if (ballast) (globalThis as { benchBallast?: unknown }).benchBallast = ballast;
  let active = 0;
  const ports = {} as UpstreamInfo;
  for (const kind of kinds) {
    const up = { host: '127.0.0.1', port: upstream[kind] };
    const server = createServer((c) => {
      const u = connect(up);
      c.pipe(u);
      u.pipe(c);
      // Not part of the ten lines, but needed so an RST does not crash the process.
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      u.once('connect', () => active++);
      u.once('close', () => active--);
    });
    ports[kind] = await listen(server);
  }
  serveParent({ mode, pid: process.pid, ports } satisfies SutInfo, {
    cpu: () => cpuMs(),
    cpuSplit: () => cpuSplit(),
    io: () => ioCounters(),
    mem: () => memorySample(),
    active: () => active,
    ...loopDelay,
  });
} else if (mode === 'delay') {
  const up = { host: '127.0.0.1', port: upstream.echo, noDelay: true };
  const server = createServer({ noDelay: true }, (c) => {
    const u = connect(up);
    c.on('data', (chunk: Buffer) => u.write(chunk));
    u.on('data', (chunk: Buffer) => setTimeout(() => c.write(chunk), 50));
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => u.destroy());
  });
  const port = await listen(server);
  serveParent(
    {
      mode,
      pid: process.pid,
      ports: { echo: port, sink: 0, source: 0, stream: 0 },
    } satisfies SutInfo,
    {
      cpu: () => cpuMs(),
      mem: () => memorySample(),
    },
  );
} else if (mode === 'faultline') {
  const { ProxyCollection, startControlServer } = (await import(
    entry
  )) as typeof import('../../src/index.js');
  const collection = new ProxyCollection({ seed: 1 });
  const proxies = {} as Record<(typeof kinds)[number], FaultProxy>;
  const ports = {} as UpstreamInfo;
  for (const kind of kinds) {
    const proxy = await collection.create({ name: kind, upstream: `127.0.0.1:${upstream[kind]}` });
    proxies[kind] = proxy;
    ports[kind] = proxy.port;
  }
  const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
  serveParent({ mode, pid: process.pid, ports, api: api.url } satisfies SutInfo, {
    cpu: () => cpuMs(),
    cpuSplit: () => cpuSplit(),
    io: () => ioCounters(),
    mem: () => memorySample(),
    ...loopDelay,
    active: () => collection.list().reduce((n, p) => n + p.stats.connections_active, 0),
    addToxic: (args) => {
      const { proxy, spec } = args as { proxy: string; spec: Record<string, unknown> };
      return collection.get(proxy).addToxicJson(spec).toJSON();
    },
    removeToxic: (args) => {
      const { proxy, name } = args as { proxy: string; name: string };
      collection.get(proxy).removeToxic(name);
      return true;
    },
    stats: (args) => collection.get((args as { proxy: string }).proxy).stats,
  });
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
