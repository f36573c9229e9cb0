/**
 * pg-terminate's selection: the application's sessions in pg_stat_activity matched by
 * application name, user, client address and database (all given criteria must hold), never a
 * faultline session (application_name starting `fl-`, any run's), never the asking session,
 * and only client backends — autovacuum, replication and background workers are a different
 * experiment from dropping the application's connections.
 */
import { isIP } from 'node:net';
import { OWN_NAME_PREFIX } from './connection.js';

export interface SessionMatch {
  /** application_name: exact, or a glob with `*` (any run of characters) and `?` (one). */
  application?: string | undefined;
  user?: string | undefined;
  /** Client address: an IP (`127.0.0.1`) or a network (`10.0.0.0/8`). */
  address?: string | undefined;
  database?: string | undefined;
}

/** A glob as a LIKE pattern (with `\` as the escape). */
export function globToLike(glob: string): string {
  return glob
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

/** Is `text` an IP address or a network in CIDR notation? */
export function isAddressPattern(text: string): boolean {
  const [ip = '', bits, ...rest] = text.split('/');
  const family = isIP(ip);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** The SELECT of the matching sessions (pid and who they are), with its parameters. */
export function matchingSessionsQuery(match: SessionMatch): { text: string; values: string[] } {
  const values: string[] = [`${globToLike(OWN_NAME_PREFIX)}%`];
  const where = [
    "backend_type = 'client backend'",
    'pid <> pg_backend_pid()',
    "application_name NOT LIKE $1 ESCAPE '\\'",
  ];
  const add = (clause: (n: string) => string, value: string): void => {
    values.push(value);
    where.push(clause(`$${values.length}`));
  };
  if (match.application !== undefined)
    add((n) => `application_name LIKE ${n} ESCAPE '\\'`, globToLike(match.application));
  if (match.user !== undefined) add((n) => `usename = ${n}`, match.user);
  if (match.address !== undefined) add((n) => `client_addr <<= ${n}::inet`, match.address);
  if (match.database !== undefined) add((n) => `datname = ${n}`, match.database);
  return {
    text: `SELECT pid, usename AS user, host(client_addr) AS address, datname AS database, application_name AS application FROM pg_stat_activity WHERE ${where.join(' AND ')} ORDER BY pid`,
    values,
  };
}

/** One terminated session, as journaled: `pid user@address/database [application]`. */
export function describeSession(row: {
  pid: number;
  user: string | null;
  address: string | null;
  database: string | null;
  application: string | null;
}): string {
  return `${row.pid} ${row.user ?? '?'}@${row.address ?? 'local'}/${row.database ?? '?'}${row.application ? ` ${row.application}` : ''}`;
}
