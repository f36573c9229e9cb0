/**
 * The demo's PostgreSQL: an embedded one by default, a real server when DATABASE_URL says so.
 *
 * The embedded database is PGlite (PostgreSQL compiled to WebAssembly, in this process) behind
 * pglite-socket, which speaks the PostgreSQL wire protocol on a loopback port. The payment
 * service therefore uses the ordinary `pg` driver, through the fault proxy, exactly as it would
 * use a real server — which is what lets `faultline demo` run on a machine with nothing but Node.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
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
      close: () => Promise.resolve(),
    };
  }
  // PGlite runs in a worker thread (see pglite-worker.ts): in this process, off the main thread.
  const here = fileURLToPath(import.meta.url);
  const file = here.replace(
    /database\.(ts|js)$/,
    `pglite-worker.${here.endsWith('.ts') ? 'ts' : 'js'}`,
  );
  const workerData = { schema: SCHEMA_SQL };
  // Under tsx (tests, development) a worker does not inherit its loader: register it first.
  const worker = file.endsWith('.ts')
    ? new Worker(
        `(async () => { const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); register(); await import(${JSON.stringify(pathToFileURL(file).href)}); })();`,
        { eval: true, workerData },
      )
    : new Worker(file, { workerData });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the embedded PostgreSQL stopped (exit ${code})`)),
    );
  });
  worker.unref();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    host: '127.0.0.1',
    port,
    embedded: true,
    describe: `embedded PostgreSQL (PGlite over pglite-socket) on 127.0.0.1:${port}`,
    async close() {
      const stopped = new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5_000);
        worker.once('message', () => {
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        });
      });
      worker.postMessage('stop');
      await stopped;
    },
  };
}
