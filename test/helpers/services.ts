// Small real services for runner tests: a TCP "database" and an HTTP service that depends on
// it, so faults on a proxy between them show up in the service's answers.
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyCollection, startControlServer, type FaultProxy } from '../../src/index.js';

/** A TCP server that answers every chunk with the same bytes. */
export async function startEcho(): Promise<{
  server: Server;
  address: string;
  close: () => Promise<void>;
}> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export { freePort } from '../../src/demo/free-port.js';

/**
 * An HTTP service: `GET /health` round-trips a ping to its dependency at `dependencyPort` (a
 * new connection per request) and answers 200 with the time it took, or 503 when the
 * dependency fails or takes longer than `timeoutMs`.
 */
export async function startService(
  dependencyPort: number,
  timeoutMs = 2_000,
): Promise<{ url: string; server: HttpServer; close: () => Promise<void> }> {
  const server = createHttpServer((req, res) => {
    const started = Date.now();
    const socket = connect(dependencyPort, '127.0.0.1');
    const fail = (why: string): void => {
      socket.destroy();
      if (!res.headersSent)
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`dependency: ${why}\n`);
    };
    socket.setTimeout(timeoutMs, () => fail('timeout'));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.once('connect', () => socket.write('ping'));
    socket.once('data', () => {
      socket.destroy();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, ms: Date.now() - started }));
    });
    req.resume();
  });
  server.keepAliveTimeout = 100;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The stack most runner tests need: a TCP "database", a faultline proxy `db` in front of it on a
 * Toxiproxy-compatible control server (as `faultline proxy serve` would run it), an HTTP service
 * that reaches the database through that proxy, and a temporary directory.
 */
export async function startRemoteProxyStack(prefix: string): Promise<{
  dir: string;
  collection: ProxyCollection;
  proxy: FaultProxy;
  api: { url: string };
  echo: Awaited<ReturnType<typeof startEcho>>;
  service: Awaited<ReturnType<typeof startService>>;
  close: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const collection = new ProxyCollection({ seed: 1 });
  const echo = await startEcho();
  const proxy = await collection.create({ name: 'db', upstream: echo.address });
  const service = await startService(proxy.port, 2_000);
  const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
  return {
    dir,
    collection,
    proxy,
    api,
    echo,
    service,
    close: async () => {
      await api.close();
      await collection.close();
      await service.close();
      await echo.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
