// A private PostgreSQL server for the tests that break one (locks, exhausted slots, terminated
// sessions): initdb into a temporary directory, pg_ctl start on a free loopback port as the
// `postgres` user (the server refuses root), stopped with `-m immediate` and removed afterwards.
// The machine's shared server on 5432 is never touched.
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './services.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  port: number;
  /** A URL for `user` (default the superuser `postgres`) on `database` (default postgres). */
  url(user?: string, database?: string): string;
  /** A plain node-postgres client (not faultline's), connected, closed at stop. */
  client(options?: { user?: string; database?: string; application?: string }): Promise<pg.Client>;
  stop(): Promise<void>;
}

async function asPostgres(command: string, args: string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', join(BIN, command), ...args], {
    timeout: 120_000,
  });
  return stdout;
}

/** initdb + pg_ctl start with `settings` (e.g. max_connections) on a free port. */
export async function startPostgres(
  settings: Record<string, string | number> = {},
): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-pg-'));
  const { stdout: ids } = await run('id', ['-u', 'postgres']);
  const { stdout: gids } = await run('id', ['-g', 'postgres']);
  await chown(dir, Number(ids), Number(gids));
  const data = join(dir, 'data');
  await asPostgres('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  await asPostgres('pg_ctl', [
    '-D',
    data,
    '-o',
    options,
    '-l',
    join(dir, 'log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  const clients: pg.Client[] = [];
  const url = (user = 'postgres', database = 'postgres'): string =>
    `postgres://${user}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async client(o = {}) {
      const client = new pg.Client({
        connectionString: url(o.user, o.database),
        application_name: o.application ?? 'test',
      });
      client.on('error', () => undefined);
      clients.push(client);
      await client.connect();
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(
        () => undefined,
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}
