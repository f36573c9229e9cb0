/**
 * A small payment-style HTTP service on real PostgreSQL, run as a child process for the verdict
 * tests: `GET /pay` runs a query through a pool of 4 connections to DATABASE_URL and answers 200,
 * or 503 when the database fails or is slow. Whether DATABASE_URL points at a fault proxy or
 * straight at PostgreSQL (a bypass) is the test's choice. It prints `listening <port>` and stops
 * when its standard input closes, so a killed test leaves nothing running. With PORT set it is
 * a `service` target that faultline starts: it listens there and stops on SIGTERM alone (its
 * standard input is /dev/null). `GET /crash` makes it exit with code 3, as a crash would.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

const pool = new pg.Pool({
  connectionString: process.env['DATABASE_URL'],
  max: 4,
  connectionTimeoutMillis: 2_000,
  query_timeout: 2_000,
});
pool.on('error', () => undefined);

const server = createServer((req, res) => {
  req.resume();
  if (req.url === '/crash') process.exit(3);
  pool.query('SELECT 1 AS ok').then(
    () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"paid":true}\n'),
    (err: unknown) =>
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`database: ${String(err)}\n`),
  );
});
server.keepAliveTimeout = 1_000;
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});

const stop = (): void => {
  server.closeAllConnections();
  server.close();
  void pool.end().finally(() => process.exit(0));
};
if (process.env['PORT'] === undefined) process.stdin.on('end', stop).resume();
process.on('SIGTERM', stop);
