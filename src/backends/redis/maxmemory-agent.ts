/**
 * The `redis/maxmemory` agent: lowers maxmemory (and sets its policy), holds the fault until
 * removal or the lease deadline, then puts the journaled originals back. A detached process,
 * so a SIGKILLed runner cannot leave Redis starved of memory past the deadline.
 *
 * Params: `{ url, maxmemory: bytes, policy, original: { maxmemory, policy } }`. The driver has
 * journaled `original` before starting it; `faultline recover` restores from the same values.
 */
import type { AgentContext } from '../local/agent.js';
import { openRedis } from './connection.js';
import { restoreMaxmemory, type MaxmemorySetting } from './maxmemory.js';

interface Params {
  url: string;
  maxmemory: number;
  policy: string;
  original: MaxmemorySetting;
}

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const p = params as Params;
  const client = await openRedis(p.url, context.tag);
  let changed = false;
  try {
    changed = true; // from the first CONFIG SET on, the originals must be put back
    await client.call('CONFIG', 'SET', 'maxmemory-policy', p.policy);
    await client.call('CONFIG', 'SET', 'maxmemory', String(p.maxmemory));
    context.ready({ maxmemory: p.maxmemory, policy: p.policy });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    client.disconnect();
    // A fresh connection: the application may have killed ours, or Redis restarted meanwhile.
    if (changed) await restoreMaxmemory(p.url, context.tag, p.original, 30_000);
  }
}
