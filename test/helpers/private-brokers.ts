// Private Redis and RabbitMQ servers for the tests that break them: on free loopback ports, in
// temporary directories, stopped and removed afterwards. The machine's shared servers (Redis
// 6379, the RabbitMQ node rabbit@localhost) are never touched.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './services.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface PrivateRedis {
  port: number;
  url: string;
  /** A plain client (not faultline's) for checks. */
  client(name?: string, options?: RedisOptions): Redis;
  stop(): Promise<void>;
}

/** `redis-server --port N --save '' --appendonly no` on a free port, ready to answer. */
export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const clients: Redis[] = [];
  const client = (name?: string, options: RedisOptions = {}): Redis => {
    const c = new Redis(port, '127.0.0.1', {
      connectionName: name,
      maxRetriesPerRequest: 1,
      ...options,
    });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const probe = client('test-ready', { lazyConnect: true, retryStrategy: () => null });
  await waitFor(
    `redis-server on ${port}`,
    async () => {
      if (probe.status !== 'ready') await probe.connect();
      return (await probe.ping()) === 'PONG';
    },
    { timeoutMs: 20_000, intervalMs: 100, ignoreErrors: true },
  );
  probe.disconnect();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    async stop() {
      for (const c of clients) c.disconnect();
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    },
  };
}

export interface PrivateRabbit {
  node: string;
  amqpUrl: string;
  dir: string;
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A RabbitMQ node of its own: name fltest-<pid>-<n>@localhost, its own AMQP and distribution
 * ports, data, logs, pid file, config and enabled plugins in a temporary directory
 * (readable by the rabbitmq user Debian's wrapper runs it as, so it shares that user's Erlang
 * cookie with rabbitmqctl).
 */
let rabbits = 0;
export async function startRabbit(): Promise<PrivateRabbit> {
  const node = `fltest-${process.pid}-${++rabbits}@localhost`;
  const [amqpPort, distPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'fl-rabbit-'));
  await chmod(dir, 0o777);
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    `listeners.tcp.default = ${amqpPort}\nloopback_users = none\n`,
    { mode: 0o644 },
  );
  await writeFile(join(dir, 'enabled_plugins'), '[].\n', { mode: 0o666 });
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
  };
  const server = spawn('rabbitmq-server', [], { env, cwd: dir, stdio: 'ignore', detached: true });
  server.unref();
  const ctl = async (...args: string[]): Promise<string> =>
    (await run('rabbitmqctl', ['-n', node, '-q', ...args], { timeout: 60_000 })).stdout;
  const stop = async (): Promise<void> => {
    await ctl('stop', join(dir, 'pid')).catch(() => undefined);
    if (server.exitCode === null && server.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await ctl('wait', join(dir, 'pid'), '--timeout', '120');
    return { node, amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`, dir, ctl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
