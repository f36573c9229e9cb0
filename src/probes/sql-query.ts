/**
 * A SQL probe on PostgreSQL: one query on a fresh connection (so a probe measures what a new
 * client of the database sees), its rows, and the first column of the first row as `value` —
 * the shape of a reconciliation query ("no lost payments": `select count(*) … → 0`).
 */
import { performance } from 'node:perf_hooks';
import { ProbeError } from './probe-error.js';
import { redact } from '../shared/redact.js';

export interface SqlOutput {
  value: unknown;
  rows: Record<string, unknown>[];
  rowCount: number;
  elapsedMs: number;
}

export async function sqlQuery(
  spec: { url: string; query: string; timeoutMs: number },
  signal?: AbortSignal,
): Promise<SqlOutput> {
  // Named like every faultline session (fl-…): pg-terminate never takes a probe for the application.
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: spec.url,
    application_name: 'fl-probe',
    connectionTimeoutMillis: spec.timeoutMs,
    query_timeout: spec.timeoutMs,
    statement_timeout: spec.timeoutMs,
  });
  client.on('error', () => undefined);
  const onAbort = (): void => void client.end().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  const start = performance.now();
  try {
    await client.connect();
    const result = await client.query(spec.query);
    const first = result.rows[0] as Record<string, unknown> | undefined;
    return {
      value: first ? Object.values(first)[0] : null,
      rows: result.rows.slice(0, 100) as Record<string, unknown>[],
      rowCount: result.rowCount ?? result.rows.length,
      elapsedMs: performance.now() - start,
    };
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw new ProbeError(`SQL probe on ${redact(spec.url)}: ${(err as Error).message}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}
