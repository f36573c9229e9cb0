/**
 * The `postgres/lock` agent (pg-lock): one session, named with the fault's tag, that opens a
 * transaction, takes `LOCK TABLE … IN <mode> MODE` and holds it until removal or the lease.
 *
 * Deadlines on both sides: the agent rolls back at its lease; if the agent is SIGKILLed its
 * socket closes and the idle-in-transaction backend ends at once (the lock goes with it); if
 * the agent is frozen, the server's idle_in_transaction_session_timeout (the lease plus a
 * margin) ends the session anyway.
 *
 * Params: `{ url, table, mode }`.
 */
import type { AgentContext } from '../local/agent.js';
import { backendPid, openPg, resolveTable, someTables } from './connection.js';

/** How long the agent waits for a conflicting lock held by someone else before it gives up. */
export const LOCK_WAIT_MS = 15_000;
/** The server ends the session this long after the lease if nothing else did. */
export const SERVER_MARGIN_MS = 5_000;

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { url, table, mode } = params as { url: string; table: string; mode: string };
  const client = await openPg(url, context.tag, {
    signal: context.signal,
    statementTimeoutMs: 0,
    idleInTransactionTimeoutMs: Math.max(1_000, context.deadline - Date.now() + SERVER_MARGIN_MS),
  });
  try {
    const name = await resolveTable(client, table);
    if (!name) throw new Error(await missingTable(client, table));
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = ${LOCK_WAIT_MS}`);
    try {
      await client.query(`LOCK TABLE ${name} IN ${mode} MODE`);
    } catch (err) {
      if ((err as { code?: string }).code === '55P03')
        throw new Error(
          `could not lock ${name} within ${LOCK_WAIT_MS / 1000} s: another session holds a conflicting lock`,
        );
      throw err;
    }
    context.ready({ table: name, mode, pid: backendPid(client) });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
      client.once('error', () => resolve()); // terminated from outside: nothing left to hold
      client.once('end', () => resolve());
    });
    await client.query('ROLLBACK').catch(() => undefined);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** "table x does not exist" with the tables there are, as a hint. */
export async function missingTable(client: import('pg').Client, table: string): Promise<string> {
  const tables = await someTables(client).catch(() => [] as string[]);
  const db = (client as unknown as { database?: string }).database;
  return `table "${table}" does not exist${db ? ` in database ${db}` : ''} (or is not visible to this user); hint: ${tables.length ? `tables there: ${tables.join(', ')}` : 'the database has no tables'} — name it as SQL would, schema-qualified if it is not on the search_path (e.g. billing.orders)`;
}
