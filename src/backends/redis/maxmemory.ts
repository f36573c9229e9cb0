/**
 * Putting maxmemory and maxmemory-policy back to their journaled values — the one restore used
 * by the agent at its deadline, by removal and by `faultline recover`. Retries for a while: a
 * Redis that is briefly unreachable must not keep the lowered limit.
 */
import { FaultError } from '../../errors.js';
import { configGet, withRedis } from './connection.js';

export interface MaxmemorySetting {
  maxmemory: string;
  policy: string;
}

export async function readMaxmemory(
  url: string,
  tag: string,
  signal?: AbortSignal,
): Promise<MaxmemorySetting> {
  return withRedis(
    url,
    tag,
    async (client) => {
      const maxmemory = await configGet(client, 'maxmemory');
      const policy = await configGet(client, 'maxmemory-policy');
      if (maxmemory === undefined || policy === undefined)
        throw new FaultError(
          'CONFIG GET maxmemory answered nothing (is CONFIG renamed or forbidden to this user?)',
        );
      return { maxmemory, policy };
    },
    { signal },
  );
}

export async function restoreMaxmemory(
  url: string,
  tag: string,
  original: MaxmemorySetting,
  withinMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      await withRedis(
        url,
        tag,
        async (client) => {
          // The limit first: restoring the policy under a still-lowered limit could evict keys.
          await client.call('CONFIG', 'SET', 'maxmemory', original.maxmemory);
          await client.call('CONFIG', 'SET', 'maxmemory-policy', original.policy);
        },
        { signal },
      );
      return;
    } catch (err) {
      if (signal?.aborted || Date.now() > until)
        throw new FaultError(
          `could not restore maxmemory ${original.maxmemory} / ${original.policy}: ${(err as Error).message}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Are the current values the journaled originals? */
export async function isRestored(
  url: string,
  tag: string,
  original: MaxmemorySetting,
  signal?: AbortSignal,
): Promise<boolean> {
  const now = await readMaxmemory(url, tag, signal);
  return now.maxmemory === original.maxmemory && now.policy === original.policy;
}
