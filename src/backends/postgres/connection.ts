/**
 * faultline's own PostgreSQL sessions. Every session a fault opens carries the fault's tag as
 * its `application_name`, so removal and `faultline recover` find exactly those sessions in
 * pg_stat_activity (and pg-terminate never takes them for the application's); control sessions
 * (checks, removal) are named {@link CONTROL_NAME}. All of them start `fl-`, which pg-terminate
 * never touches.
 */
import type pg from 'pg';
import { FaultError } from '../../errors.js';
import { redact } from '../../shared/redact.js';

/** application_name of every session faultline opens starts with this (see faultTag). */
export const OWN_NAME_PREFIX = 'fl-';
/** application_name of faultline's short control sessions (checks, removal). */
export const CONTROL_NAME = 'fl-control';

export interface OpenOptions {
  signal?: AbortSignal | undefined;
  /** Connection (and, unless statementTimeoutMs, query) timeout. */
  timeoutMs?: number;
  /** Server-side statement_timeout (0: none). */
  statementTimeoutMs?: number;
  /** Server-side idle_in_transaction_session_timeout (0: none). */
  idleInTransactionTimeoutMs?: number;
}

/**
 * The URL with any application_name of its own removed: node-postgres lets the connection
 * string win over the configured application_name, and the tag must win.
 */
export function withoutApplicationName(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('application_name')) return url;
    parsed.searchParams.delete('application_name');
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Opens a session named `name`; rejects with a plain message (no password) when it cannot. */
export async function openPg(
  url: string,
  name: string,
  options: OpenOptions = {},
): Promise<pg.Client> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: withoutApplicationName(url),
    application_name: name,
    connectionTimeoutMillis: timeoutMs,
    ...(options.statementTimeoutMs !== undefined
      ? { statement_timeout: options.statementTimeoutMs }
      : { query_timeout: timeoutMs }),
    ...(options.idleInTransactionTimeoutMs !== undefined
      ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs }
      : {}),
  });
  client.on('error', () => undefined); // a terminated session: the next query says so
  const onAbort = (): void => void client.end().catch(() => undefined);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    if (options.signal?.aborted)
      throw options.signal.reason instanceof Error
        ? options.signal.reason
        : new FaultError('interrupted');
    throw new FaultError(
      `cannot connect to PostgreSQL at ${redact(url)}: ${(err as Error).message}`,
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs `work` on a fresh control session and closes it, whatever happens. */
export async function withPg<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
  options: OpenOptions = {},
): Promise<T> {
  const client = await openPg(url, CONTROL_NAME, options);
  const onAbort = (): void => void client.end().catch(() => undefined);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await work(client);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

/** Backend pids of the sessions named `tag` (other than the asking session). */
export async function taggedSessions(client: pg.Client, tag: string): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [tag],
  );
  return rows.map((r) => r.pid);
}

/**
 * Terminates every session named `tag` and waits until pg_stat_activity shows none (a
 * terminated backend takes a moment to leave). Returns how many it terminated.
 */
export async function terminateTagged(
  client: pg.Client,
  tag: string,
  withinMs = 10_000,
): Promise<number> {
  const { rows } = await client.query<{ ok: boolean }>(
    'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [tag],
  );
  const until = Date.now() + withinMs;
  for (;;) {
    const left = await taggedSessions(client, tag);
    if (left.length === 0) return rows.filter((r) => r.ok).length;
    if (Date.now() > until)
      throw new FaultError(
        `${left.length} session(s) named ${tag} are still there after pg_terminate_backend (pids ${left.join(', ')})`,
      );
    await new Promise((r) => setTimeout(r, 50)); // a backend's exit has no event a client can wait on
  }
}

/** The server's connection slots: what a non-superuser may still take. */
export interface SlotFigures {
  maxConnections: number;
  /** superuser_reserved_connections plus reserved_connections (PostgreSQL 16+). */
  reserved: number;
  /** Client backends connected now (all users, faultline's included). */
  inUse: number;
  /** Non-reserved slots free now: max_connections − reserved − in use. */
  available: number;
}

export async function slotFigures(client: pg.Client): Promise<SlotFigures> {
  const { rows } = await client.query<{
    max: string;
    su: string;
    reserved: string | null;
    used: string;
  }>(
    `SELECT current_setting('max_connections') AS max,
            current_setting('superuser_reserved_connections') AS su,
            current_setting('reserved_connections', true) AS reserved,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::text AS used`,
  );
  const row = rows[0]!;
  const maxConnections = Number(row.max);
  const reserved = Number(row.su) + Number(row.reserved ?? 0);
  const inUse = Number(row.used);
  return {
    maxConnections,
    reserved,
    inUse,
    available: Math.max(0, maxConnections - reserved - inUse),
  };
}

/**
 * The table as PostgreSQL names it (quoted and schema-qualified where needed), or undefined
 * when no such table is visible. `name` is read as SQL would read it: `orders`,
 * `billing.orders`, `"Orders"`.
 */
export async function resolveTable(client: pg.Client, name: string): Promise<string | undefined> {
  try {
    const { rows } = await client.query<{ name: string | null }>(
      'SELECT to_regclass($1)::text AS name',
      [name],
    );
    return rows[0]?.name ?? undefined;
  } catch {
    return undefined; // not even a valid name (e.g. an unterminated quote)
  }
}

/** Up to `limit` table names of the database, for a hint. */
export async function someTables(client: pg.Client, limit = 8): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     ORDER BY 1 LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.name);
}

/** Sets a session parameter where the server has it (client_connection_check_interval is 14+). */
export async function trySet(client: pg.Client, name: string, value: string): Promise<void> {
  await client.query('SELECT set_config($1, $2, false)', [name, value]).catch(() => undefined);
}

/** The session's backend pid, as the server sent it at start-up (node-postgres keeps it untyped). */
export function backendPid(client: pg.Client): number {
  return (client as unknown as { processID: number }).processID;
}
