/**
 * The demo's Redis (the session cache): REDIS_URL when given; else a private `redis-server`
 * when one is on PATH (started on a free port with persistence off, stopped with the demo);
 * else a Redis answering on 127.0.0.1:6379; else none, and the demo says so in one line.
 *
 * A private server comes first so that the demo never depends on, or writes into, a Redis the
 * user runs for something else unless they ask for it. It is held by a small `sh` wrapper that
 * stops it when its standard input closes, which the kernel does when the demo dies, even by
 * SIGKILL: no redis-server is left behind that nobody owns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export interface DemoRedis {
  url: string;
  host: string;
  port: number;
  describe: string;
  close(): Promise<void>;
}

async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const answer: string = await client.ping();
    return answer === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function onPath(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * Runs redis-server in the background and stops it once standard input (a pipe from this
 * process) reaches EOF: the demo ends it on close, the kernel when the demo dies. Exits with
 * redis-server's status. (A background job of a non-interactive shell reads /dev/null, hence
 * the copy of stdin on fd 3.)
 */
const HELD_BY_STDIN =
  'redis-server "$@" </dev/null & r=$!; exec 3<&0; { cat <&3 >/dev/null; kill $r 2>/dev/null; } & exec 3<&-; wait $r';

/**
 * Stops a held redis-server: EOF on its wrapper's stdin, then waits. After 5 s the wrapper's
 * whole process group (wrapper, redis-server, watcher: it was started as a group leader) gets
 * SIGKILL, so a stuck redis-server cannot outlive the wrapper.
 */
async function release(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    child.stdin?.end();
    return;
  }
  const exited = once(child, 'exit');
  child.stdin?.end();
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts `redis-server` on a free port and waits until it answers. */
async function startPrivate(signal?: AbortSignal): Promise<DemoRedis> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      'sh',
      [
        '-c',
        HELD_BY_STDIN,
        'sh',
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      // A group of its own, so that release() can stop all of it; the demo still stops it on
      // Ctrl-C (close), and the pipe stops it if the demo dies.
      { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
    );
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 5_000;
    let exited = false as boolean; // set by the exit listener
    child.once('exit', () => {
      exited = true;
    });
    while (!exited && Date.now() < deadline && !signal?.aborted) {
      if (await answersPing(url)) {
        return {
          url,
          host: '127.0.0.1',
          port,
          describe: `a private redis-server on 127.0.0.1:${port}`,
          close: () => release(child),
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await release(child);
    if (attempt >= 2 || signal?.aborted) throw new Error('redis-server did not start');
  }
}

/** Finds or starts a Redis; undefined (with the reason) when there is none. */
export async function startRedis(
  url: string | undefined,
  signal?: AbortSignal,
): Promise<DemoRedis | { skipped: string }> {
  if (url) {
    if (!(await answersPing(url))) throw new Error(`REDIS_URL ${url} does not answer PING`);
    const u = new URL(url);
    return {
      url,
      host: u.hostname,
      port: Number(u.port || 6379),
      describe: `Redis at ${u.host} (REDIS_URL)`,
      close: () => Promise.resolve(),
    };
  }
  if (await onPath('redis-server')) return startPrivate(signal);
  if (await answersPing('redis://127.0.0.1:6379')) {
    return {
      url: 'redis://127.0.0.1:6379',
      host: '127.0.0.1',
      port: 6379,
      describe: 'the Redis on 127.0.0.1:6379 (only keys faultline-demo:*)',
      close: () => Promise.resolve(),
    };
  }
  return {
    skipped:
      'no Redis: neither REDIS_URL, redis-server on PATH, nor a Redis on 127.0.0.1:6379 — the session-cache part is skipped',
  };
}
