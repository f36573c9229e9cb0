/**
 * The `postgres/pool` agent (pg-pool-exhaustion): opens idle sessions, named with the fault's
 * tag, until it holds `connections` of them (or all but `leave` of the non-reserved slots),
 * and holds them until removal or the lease.
 *
 * It never takes a reserved slot: it reads max_connections, superuser_reserved_connections
 * (and reserved_connections where the server has it) and the client backends in use before it
 * opens anything, refuses a count that does not fit, and — because the application may connect
 * at the same moment and an administrative superuser session would then slip into a reserved
 * slot — counts again once it holds them and lets go of any it holds beyond the limit.
 *
 * Deadlines: the agent closes its sessions at its lease; a SIGKILLed agent's sockets close and
 * the idle backends end at once; a frozen agent's sessions end by the server's
 * idle_session_timeout (the lease plus a margin, PostgreSQL 14+).
 *
 * Params: `{ url, connections?, leave? }`.
 */
import type pg from 'pg';
import type { AgentContext } from '../local/agent.js';
import { backendPid, openPg, slotFigures, trySet, type SlotFigures } from './connection.js';
import { SERVER_MARGIN_MS } from './lock-agent.js';

/** How many sessions to hold, or why not (a sentence for the user). */
export function poolTarget(
  figures: SlotFigures,
  ownSessions: number,
  ask: { connections?: number | undefined; leave?: number | undefined },
): { hold: number } | { refuse: string } {
  // Our own sessions already counted in `inUse` are slots we can keep.
  const free = figures.available + ownSessions;
  const detail = `max_connections ${figures.maxConnections}, ${figures.reserved} reserved for superusers, ${figures.inUse - ownSessions} in use by other sessions: ${free} free`;
  if (ask.connections !== undefined) {
    if (ask.connections > free)
      return {
        refuse: `cannot hold ${ask.connections} connections without taking reserved slots (${detail}); hint: ask for at most ${free}, or use leave: N to hold all but N of the free slots`,
      };
    return { hold: ask.connections };
  }
  const leave = ask.leave ?? 0;
  if (free - leave < 1)
    return { refuse: `leave: ${leave} leaves nothing to hold (${detail}); hint: a smaller leave` };
  return { hold: free - leave };
}

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { url, connections, leave } = params as {
    url: string;
    connections?: number;
    leave?: number;
  };
  const held: pg.Client[] = [];
  const open = async (): Promise<pg.Client> => {
    const client = await openPg(url, context.tag, { signal: context.signal });
    await trySet(
      client,
      'idle_session_timeout',
      String(Math.max(1_000, context.deadline - Date.now() + SERVER_MARGIN_MS)),
    );
    return client;
  };
  try {
    held.push(await open());
    const target = poolTarget(await slotFigures(held[0]!), 1, { connections, leave });
    if ('refuse' in target) throw new Error(target.refuse);
    let shortBy: string | undefined;
    while (held.length < target.hold && !context.signal.aborted) {
      try {
        held.push(await open());
      } catch (err) {
        // The application took the last slots first: hold what we have.
        shortBy = (err as Error).message;
        break;
      }
    }
    // Someone connected meanwhile and a superuser session of ours slipped into a reserved slot: give it back.
    const after = await slotFigures(held[0]!);
    let over = after.inUse - (after.maxConnections - after.reserved);
    while (over > 0 && held.length > 1) {
      await held
        .pop()!
        .end()
        .catch(() => undefined);
      over--;
    }
    context.ready({
      held: held.length,
      asked: target.hold,
      pids: held.map(backendPid),
      ...(shortBy ? { shortBy } : {}),
    });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await Promise.all(held.map((c) => c.end().catch(() => undefined)));
  }
}
