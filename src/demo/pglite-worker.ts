/**
 * The embedded PostgreSQL's thread: PGlite and its socket server run in a worker thread, so the
 * database's work (WebAssembly, single-threaded) never delays the runner's load generator and
 * probes on the main thread — a measurement the database itself skews would be worthless.
 * Messages: it posts `{ port }` once it listens, and stops (posting `'stopped'`) on `'stop'`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { schema } = workerData as { schema: string };
const db = await PGlite.create();
await db.exec(schema);
// PGlite is single-connection; the socket server multiplexes up to maxConnections clients.
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 128 });
await server.start();
const address = server.getServerConn();
parentPort!.postMessage({ port: Number(address.slice(address.lastIndexOf(':') + 1)) });
parentPort!.on('message', (message) => {
  if (message !== 'stop') return;
  void (async () => {
    await server.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    parentPort!.postMessage('stopped');
  })();
});
