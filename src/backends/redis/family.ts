/**
 * The redis fault family (src/backends/local/family.ts): redis-pause, redis-kill-clients and
 * redis-maxmemory on `redis` targets (./driver.ts).
 *
 * `recover` removes a fault from its journaled handle alone, so a live run's removal and
 * `faultline recover` after a SIGKILLed runner take the same path:
 * - redis-pause WRITE: CLIENT UNPAUSE (nothing to do once the journaled deadline has passed:
 *   Redis lifted the pause by itself); ALL: the agent chaining the pause is stopped, then the
 *   slice in progress is waited out (Redis postpones CLIENT UNPAUSE itself under PAUSE ALL);
 * - redis-maxmemory: the agent is stopped (it restores the originals), then the journaled
 *   originals are set again, in case the agent itself was killed;
 * - redis-kill-clients: nothing — killed connections are not undone, and the repeated kills
 *   died with the runner that ran them.
 */
import { FaultError } from '../../errors.js';
import type { RedisLocation } from '../location.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { withRedis } from './connection.js';
import { restoreMaxmemory } from './maxmemory.js';

export const redisFamily: LocalFamily<RedisLocation> = {
  async recover(location: RedisLocation, signal: AbortSignal | undefined) {
    const handle = location.handle;
    // From a journal: one written by another version may carry no tag.
    const tag = (location.tag as string | undefined) ?? 'fl-recover';
    switch (location.fault) {
      case 'redis-pause':
        if (!handle.url) return;
        if (handle.mode === 'ALL') {
          // The agent's end closes its connection; the slice in progress runs out by itself.
          if (location.tag) await stopAgents(location.tag, { graceMs: 5_000, signal });
          await waitUnpaused(handle.url, tag, (handle.sliceMs ?? 500) * 4 + 10_000, signal);
          return;
        }
        try {
          await withRedis(handle.url, tag, (client) => client.call('CLIENT', 'UNPAUSE'), {
            signal,
          });
        } catch (err) {
          // Unreachable after the journaled deadline: Redis has lifted the pause by itself.
          if (handle.until === undefined || Date.now() <= handle.until) throw err;
        }
        return;
      case 'redis-maxmemory':
        if (location.tag) await stopAgents(location.tag, { graceMs: 10_000, signal });
        if (handle.url && handle.original)
          await restoreMaxmemory(handle.url, tag, handle.original, 10_000, signal);
        return;
      default:
        if (location.tag) await stopAgents(location.tag, { signal });
    }
  },
};

/** Waits until a PUBLISH (postponed by any pause) is answered: the pause is over. */
async function waitUnpaused(
  url: string,
  tag: string,
  withinMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    const answered = await withRedis(
      url,
      tag,
      async (client) => {
        await client.publish(tag, '');
        return true;
      },
      { signal, timeoutMs: 2_000 },
    ).catch(() => false);
    if (answered) return;
    if (signal?.aborted)
      throw signal.reason instanceof Error ? signal.reason : new FaultError('interrupted');
    if (Date.now() > until)
      throw new FaultError(
        `Redis at ${url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@')} is still paused`,
      );
  }
}
