/**
 * faultline's own Redis connections: named with the fault's tag (CLIENT SETNAME, through
 * ioredis's `connectionName`), so redis-kill-clients can tell them from the application's and
 * never kills them; bounded by timeouts and an AbortSignal so a dead server cannot hang a run.
 */
import type { Redis } from 'ioredis';
import { FaultError } from '../../errors.js';
import { redact } from '../../shared/redact.js';

/** Client names faultline gives its own connections start with this (see faultTag). */
export const OWN_NAME_PREFIX = 'fl-';

/** Opens a connection named `tag`; rejects with a plain message when Redis cannot be reached. */
export async function openRedis(
  url: string,
  tag: string,
  options: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectionName: tag,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null, // one attempt: a fault must not keep reconnecting behind the runner's back
    enableOfflineQueue: false,
    // No INFO ready check: under CLIENT PAUSE ALL it would block, and removal must get through.
    enableReadyCheck: false,
  });
  client.on('error', () => undefined);
  const onAbort = (): void => client.disconnect();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.disconnect();
    if (options.signal?.aborted)
      throw options.signal.reason instanceof Error
        ? options.signal.reason
        : new FaultError('interrupted');
    throw new FaultError(`cannot reach Redis at ${redact(url)}: ${(err as Error).message}`);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs `work` on a fresh named connection and closes it, whatever happens. */
export async function withRedis<T>(
  url: string,
  tag: string,
  work: (client: Redis) => Promise<T>,
  options: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<T> {
  const client = await openRedis(url, tag, options);
  try {
    return await work(client);
  } finally {
    client.disconnect();
  }
}

/** `INFO section` as a map of its `key:value` lines. */
export async function info(client: Redis, section: string): Promise<Map<string, string>> {
  const text = await client.info(section);
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) map.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

/** CONFIG GET of one parameter (its value, or undefined when the server has no such parameter). */
export async function configGet(client: Redis, name: string): Promise<string | undefined> {
  const reply = (await client.call('CONFIG', 'GET', name)) as string[];
  return reply.length >= 2 ? reply[1] : undefined;
}
