/**
 * Child processes of the benchmark and a tiny request/response protocol over Node's IPC
 * channel. Each system under test runs in its own process (with tsx, like the parent), so the
 * load generator never shares an event loop with what it measures.
 *
 *   parent ── {id, cmd, args} ──▶ child
 *   parent ◀── {id, ok, result | error} ── child        (plus one {ready, info} at start)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}

export interface Response {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface ReadyMessage {
  ready: true;
  info: unknown;
}

export interface Child<Info> {
  readonly name: string;
  readonly info: Info;
  readonly process: ChildProcess;
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  execArgv?: string[];
  /**
   * The script already compiled to JavaScript: forked with plain node, without tsx. tsx's loader
   * holds ≈ 2.5 MB of V8 heap in the child, which matters for a system under test: V8 starts
   * incremental marking (and mark-compacts during bulk transfers) once the old generation
   * passes ≈ 8 MB, and users do not run faultline under tsx.
   */
  compiled?: string;
}

/** Forks `bench/lib/<script>.ts` with tsx (or its compiled form) and waits for its `ready` message. */
export async function spawnChild<Info>(
  name: string,
  script: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<Child<Info>> {
  const file = options.compiled ?? fileURLToPath(new URL(`./${script}.ts`, import.meta.url));
  const child = fork(file, args, {
    execArgv: [
      ...(options.compiled ? [] : ['--import', 'tsx']),
      '--expose-gc',
      ...(options.execArgv ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const info = await new Promise<Info>((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      const m = message as Partial<ReadyMessage>;
      if (m.ready) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m.info as Info);
      }
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`${name} exited (${String(code)}) before it was ready`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  child.on('message', (message: unknown) => {
    const m = message as Response;
    const waiter = pending.get(m.id);
    if (!waiter) return;
    pending.delete(m.id);
    if (m.ok) waiter.resolve(m.result);
    else waiter.reject(new Error(`${name}: ${m.error ?? 'failed'}`));
  });
  child.once('exit', (code) => {
    exited = true;
    for (const waiter of pending.values())
      waiter.reject(new Error(`${name} exited (${String(code)})`));
    pending.clear();
  });
  return {
    name,
    info,
    process: child,
    call<T>(cmd: string, args?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, cmd, args } satisfies Request);
      });
    },
    async stop(): Promise<void> {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

type Handler = (args: unknown) => unknown;

/** Child side: announce readiness, then answer commands; exit when the parent goes away. */
export function serveParent(info: unknown, handlers: Record<string, Handler>): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this script runs as a child of bench/proxy.ts');
  process.on('message', (message: unknown) => {
    const { id, cmd, args } = message as Request;
    const handler = handlers[cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${cmd}`);
        return handler(args);
      })
      .then(
        (result) => send({ id, ok: true, result } satisfies Response),
        (err: unknown) =>
          send({
            id,
            ok: false,
            error: err instanceof Error ? err.message : String(err),
          } satisfies Response),
      );
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready: true, info } satisfies ReadyMessage);
}

/** What every child reports about its memory (after a forced GC). */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export async function memorySample(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

/** CPU time of this process so far, in milliseconds (user + system). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU time of this process so far, in milliseconds, split into user and system (kernel). */
export function cpuSplit(): { user: number; system: number } {
  const u = process.cpuUsage();
  return { user: u.user / 1000, system: u.system / 1000 };
}

/** Read/write system calls and bytes of this process so far (Linux /proc/self/io; zeros elsewhere). */
export interface IoCounters {
  syscr: number;
  syscw: number;
  rchar: number;
  wchar: number;
}

export function ioCounters(): IoCounters {
  const out: IoCounters = { syscr: 0, syscw: 0, rchar: 0, wchar: 0 };
  try {
    for (const line of readFileSync('/proc/self/io', 'utf8').split('\n')) {
      const [key, value] = line.split(':');
      if (key === 'syscr' || key === 'syscw' || key === 'rchar' || key === 'wchar')
        out[key] = Number(value);
    }
  } catch {
    // not Linux: no counters
  }
  return out;
}
