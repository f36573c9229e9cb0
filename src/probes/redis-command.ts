/**
 * A Redis probe: one command on a fresh connection, its reply as `value` ("does the session
 * store answer, and with what").
 */
import { performance } from 'node:perf_hooks';
import { ProbeError } from './probe-error.js';
import { redact } from '../shared/redact.js';

export interface RedisOutput {
  value: unknown;
  elapsedMs: number;
}

export async function redisCommand(
  spec: { url: string; command: readonly string[]; timeoutMs: number },
  signal?: AbortSignal,
): Promise<RedisOutput> {
  const [name, ...args] = spec.command;
  if (!name) throw new ProbeError('a Redis probe needs a command, e.g. ["PING"]');
  const { Redis } = await import('ioredis');
  const client = new Redis(spec.url, {
    lazyConnect: true,
    connectTimeout: spec.timeoutMs,
    commandTimeout: spec.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  const onAbort = (): void => client.disconnect();
  signal?.addEventListener('abort', onAbort, { once: true });
  const start = performance.now();
  try {
    await client.connect();
    const value: unknown = await client.call(name, ...args);
    return { value, elapsedMs: performance.now() - start };
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw new ProbeError(`Redis probe on ${redact(spec.url)}: ${(err as Error).message}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    client.disconnect();
  }
}
