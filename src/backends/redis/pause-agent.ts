/**
 * The `redis/pause` agent: holds a CLIENT PAUSE ALL as a chain of short pauses (slices).
 *
 * Why not one long pause lifted by CLIENT UNPAUSE, as for WRITE? Under PAUSE ALL, Redis
 * postpones every command of every normal client — CLIENT UNPAUSE and CLIENT KILL included —
 * so nothing can end it early. Here each slice lasts `sliceMs`; the agent's next CLIENT PAUSE is
 * already waiting in Redis when a slice ends, and two are kept in flight so that the next one is
 * in this connection's input buffer: Redis runs it before it releases any other postponed
 * client, so the application sees one continuous pause. Removal (SIGTERM) or the lease closes
 * the connection: Redis drops the queued pauses and the current slice ends within `sliceMs`.
 * A SIGKILLed agent ends the same way — the kernel closes its socket.
 *
 * Params: `{ url, sliceMs }`.
 */
import type { AgentContext } from '../local/agent.js';
import { openRedis } from './connection.js';

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { url, sliceMs } = params as { url: string; sliceMs: number };
  const client = await openRedis(url, context.tag, { timeoutMs: Math.max(5_000, sliceMs * 4) });
  let failure: Error | undefined;
  const stopped = new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  let failed: () => void = () => undefined;
  const broken = new Promise<void>((resolve) => (failed = resolve));
  const issue = (): void => {
    if (context.signal.aborted || failure) return;
    client.call('CLIENT', 'PAUSE', String(sliceMs), 'ALL').then(
      () => issue(), // one answered: keep two in flight
      (err: unknown) => {
        failure ??= err as Error;
        failed();
      },
    );
  };
  try {
    await client.call('CLIENT', 'PAUSE', String(sliceMs), 'ALL');
    issue();
    issue();
    context.ready({ sliceMs });
    await Promise.race([stopped, broken]);
    if (failure && !context.signal.aborted)
      throw new Error(`the pause could not be held: ${failure.message}`);
  } finally {
    client.disconnect(); // Redis drops the queued pauses; the current slice runs out by itself
  }
}
