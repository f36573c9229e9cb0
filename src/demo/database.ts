/**
 * The demo's PostgreSQL: an embedded one by default, a real server when DATABASE_URL says so.
 *
 * The embedded database is PGlite (PostgreSQL compiled to WebAssembly, in this process) behind
 * pglite-socket, which speaks the PostgreSQL wire protocol on a loopback port. The payment
 * service therefore uses the ordinary `pg` driver, through the fault proxy, exactly as it would
 * use a real server — which is what lets `faultline demo` run on a machine with nothing but Node.
 */
import pg from 'pg';
import { SCHEMA_SQL } from './payment-service.js';

export interface DemoDatabase {
  /** Where the service's driver connects when no proxy is in between. */
  url: string;
  host: string;
  port: number;
  /** True for PGlite in this process. */
  embedded: boolean;
  describe: string;
  close(): Promise<void>;
}

/** Starts PGlite (no URL) or checks the given server, and creates the demo's tables. */
export async function startDatabase(url?: string): Promise<DemoDatabase> {
  if (url) {
    const parsed = new URL(url);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query(SCHEMA_SQL);
    } finally {
      await client.end().catch(() => undefined);
    }
    return {
      url,
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      embedded: false,
      describe: `PostgreSQL at ${parsed.host} (DATABASE_URL)`,
      close: async () => undefined,
    };
  }
  // Loaded only when needed: PGlite's WebAssembly is 10+ MB and takes a few seconds to compile.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  await db.exec(SCHEMA_SQL);
  // PGlite is single-connection; the socket server multiplexes up to maxConnections clients.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 128 });
  await server.start();
  const address = server.getServerConn();
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    host: '127.0.0.1',
    port,
    embedded: true,
    describe: `embedded PostgreSQL (PGlite over pglite-socket) on 127.0.0.1:${port}`,
    async close() {
      await server.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
    },
  };
}
