/**
 * The `postgres/slow` agent (pg-slow-queries): `sessions` sessions, named with the fault's tag,
 * that keep the server busy for the lease — `pg_sleep` (slots held by active queries), a heavy
 * read of a chosen table (a sort over every row: CPU, memory and I/O the application competes
 * for), or a statement of the user's, each in a loop.
 *
 * Deadlines: at removal or its lease the agent terminates its own sessions from a control
 * session (a backend busy in a query does not notice its client leave); each statement runs
 * with a statement_timeout of the lease left, so the server stops it by the deadline even if
 * the agent is SIGKILLed; and client_connection_check_interval (PostgreSQL 14+) makes a backend
 * notice its dead client within a second.
 *
 * Params: `{ url, sessions, table?, statement? }`.
 */
import type pg from 'pg';
import type { AgentContext } from '../local/agent.js';
import { backendPid, openPg, resolveTable, terminateTagged, trySet, withPg } from './connection.js';
import { missingTable } from './lock-agent.js';

/** The heavy statement run against a table: every row hashed and sorted. */
export function heavyStatement(table: string): string {
  return `SELECT count(*) FROM (SELECT md5(t::text) AS h FROM ${table} t ORDER BY h) AS faultline_slow`;
}

interface Session {
  client: pg.Client;
  /** First statement done, or failed (with its message). */
  first: Promise<void>;
  loop: Promise<void>;
}

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { url, sessions, table, statement } = params as {
    url: string;
    sessions: number;
    table?: string;
    statement?: string;
  };
  const { signal, deadline, tag } = context;
  let sql: (remainingMs: number) => string;
  if (statement) sql = () => statement;
  else if (table) {
    const name = await withPg(
      url,
      async (client) => {
        const found = await resolveTable(client, table);
        if (!found) throw new Error(await missingTable(client, table));
        return found;
      },
      { signal },
    );
    sql = () => heavyStatement(name);
  } else sql = (remainingMs) => `SELECT pg_sleep(${(remainingMs / 1000).toFixed(3)})`;

  const open: Session[] = [];
  try {
    for (let i = 0; i < sessions; i++) {
      const client = await openPg(url, tag, { signal, statementTimeoutMs: 0 });
      await trySet(client, 'client_connection_check_interval', '1000');
      let firstDone: (err?: Error) => void = () => undefined;
      const first = new Promise<void>(
        (resolve, reject) => (firstDone = (err) => (err ? reject(err) : resolve())),
      );
      first.catch(() => undefined);
      const loop = (async () => {
        let ran = 0;
        while (!signal.aborted) {
          const remaining = deadline - Date.now();
          if (remaining <= 0) break;
          try {
            // The server's own deadline: nothing runs past the lease.
            await client.query(`SET statement_timeout = ${Math.ceil(remaining)}`);
            await client.query(sql(remaining));
            if (ran++ === 0) firstDone();
          } catch (err) {
            // The signal may have been aborted during the awaits above (the loop test's narrowing does not hold).
            if ((signal.aborted as boolean) || Date.now() >= deadline - 50) break;
            firstDone(
              new Error(
                `${statement ? 'the statement' : 'the slow query'} failed: ${(err as Error).message}`,
              ),
            );
            return; // a bad statement, a session terminated from outside, the server gone: this session is done
          }
        }
        firstDone();
      })();
      open.push({ client, first, loop });
    }
    // Applied when each session is busy in its statement (or has finished one already).
    const pids = open.map((s) => backendPid(s.client));
    await waitBusy(url, pids, open, signal);
    context.ready({ sessions: open.length, pids });
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    // A backend in pg_sleep or a long sort does not notice its client leave: end them here.
    await withPg(url, (client) => terminateTagged(client, tag), { timeoutMs: 5_000 }).catch(
      () => undefined,
    );
    await Promise.all(open.map((s) => s.client.end().catch(() => undefined)));
    await Promise.all(open.map((s) => s.loop.catch(() => undefined)));
  }
}

/** Waits until every session is active in pg_stat_activity or has run a statement through. */
async function waitBusy(
  url: string,
  pids: number[],
  sessions: Session[],
  signal: AbortSignal,
): Promise<void> {
  const settled = sessions.map(() => false);
  sessions.forEach((s, i) => {
    void s.first.then(
      () => (settled[i] = true),
      () => undefined,
    );
  });
  const failure = Promise.race(
    sessions.map((s) => s.first.then(() => new Promise<never>(() => undefined))),
  );
  const busy = withPg(
    url,
    async (client) => {
      for (;;) {
        if (signal.aborted) return;
        const { rows } = await client.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1) AND state = 'active'",
          [pids],
        );
        const active = new Set(rows.map((r) => r.pid));
        if (pids.every((pid, i) => settled[i] || active.has(pid))) return;
        await new Promise((r) => setTimeout(r, 25)); // a query's start has no event outside its session
      }
    },
    { signal },
  );
  await Promise.race([busy, failure]);
}
