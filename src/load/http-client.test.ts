// The lean HTTP/1.1 client against real servers on port 0: Content-Length, chunked (split at
// awkward places), no-body statuses, HEAD, connection close, keep-alive reuse, timeouts, and
// a server that is not HTTP.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { LeanHttpClient, type Completion } from './http-client.js';

function call(
  client: LeanHttpClient,
): Promise<{ status: number | undefined; code: string | undefined }> {
  return new Promise((resolve) => {
    const done: Completion = (status, error) => resolve({ status, code: error?.code });
    client.request(done);
  });
}

/** A raw TCP server that answers every request with `reply` (written in the given pieces). */
async function raw(pieces: string[], onConnection?: () => void): Promise<Server> {
  const server = createServer((socket) => {
    onConnection?.();
    socket.on('error', () => undefined);
    socket.on('data', () => {
      pieces.forEach((piece, i) => setTimeout(() => socket.write(piece), i * 5));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const url = (server: Server, path = '/'): URL =>
  new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);

describe('LeanHttpClient', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it('reads Content-Length bodies over a reused keep-alive connection', async () => {
    let connections = 0;
    const server = createHttpServer((_req, res) =>
      res.writeHead(201, { 'content-type': 'text/plain' }).end('x'.repeat(100_000)),
    );
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const client = new LeanHttpClient({
      url: url(server),
      method: 'POST',
      bodies: ['a', 'bb'],
      connections: 1,
      timeoutMs: 10_000,
    });
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await call(client), { status: 201, code: undefined });
    assert.equal(connections, 1, 'one connection, kept alive');
    client.close();
    server.closeAllConnections();
  });

  it('parses chunked bodies split at awkward places, and trailers', async () => {
    const server = await raw([
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r',
      '\nhello\r\n6',
      '\r\n world\r\n0\r\n',
      'X-T: 1\r\n\r\n',
    ]);
    servers.push(server);
    const client = new LeanHttpClient({
      url: url(server),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.deepEqual(await call(client), { status: 200, code: undefined });
    assert.deepEqual(await call(client), { status: 200, code: undefined });
    client.close();
  });

  it('handles 204 and close-delimited bodies', async () => {
    const s204 = await raw(['HTTP/1.1 204 No Content\r\n\r\n']);
    const sClose = createServer((socket) =>
      socket.on('data', () => socket.end('HTTP/1.0 200 OK\r\n\r\nbody until close')),
    );
    sClose.listen(0, '127.0.0.1');
    await once(sClose, 'listening');
    servers.push(s204, sClose);
    const a = new LeanHttpClient({
      url: url(s204),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.equal((await call(a)).status, 204);
    const b = new LeanHttpClient({
      url: url(sClose),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.equal((await call(b)).status, 200);
    assert.equal((await call(b)).status, 200, 'reconnects after a close-delimited answer');
    a.close();
    b.close();
  });

  it('reads headers in any case and spacing, HTTP/1.0 keep-alive and Connection: close', async () => {
    let opened = 0;
    // Upper-case names, spaces around values, the length split across two reads.
    const upper = await raw(
      [
        'HTTP/1.1 202 Accepted\r\nX-Other:1\r\nCONTENT-LENGTH:   5  \r\nConnection:\tKeep-Alive\r\n\r\nab',
        'cde',
      ],
      () => opened++,
    );
    const keep10 = await raw([
      'HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok',
    ]);
    let closeOpened = 0;
    const closing = await raw(
      ['HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'],
      () => closeOpened++,
    );
    const badLength = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n']);
    servers.push(upper, keep10, closing, badLength);
    const a = new LeanHttpClient({
      url: url(upper),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.deepEqual(await call(a), { status: 202, code: undefined });
    assert.deepEqual(await call(a), { status: 202, code: undefined });
    assert.equal(opened, 1, 'kept alive');
    const b = new LeanHttpClient({
      url: url(keep10),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.deepEqual(await call(b), { status: 200, code: undefined });
    const c = new LeanHttpClient({
      url: url(closing),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.deepEqual(await call(c), { status: 500, code: undefined });
    assert.deepEqual(await call(c), { status: 500, code: undefined });
    assert.equal(closeOpened, 2, 'a new connection after Connection: close');
    const d = new LeanHttpClient({
      url: url(badLength),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.equal((await call(d)).code, 'UND_ERR_PARSER');
    for (const client of [a, b, c, d]) client.close();
  });

  it('times out, and reports a server that is not HTTP', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const garbage = await raw(['SSH-2.0-OpenSSH\r\n\r\n']);
    servers.push(silent, garbage);
    const a = new LeanHttpClient({
      url: url(silent),
      method: 'GET',
      connections: 1,
      timeoutMs: 200,
    });
    assert.equal((await call(a)).code, 'UND_ERR_HEADERS_TIMEOUT');
    const b = new LeanHttpClient({
      url: url(garbage),
      method: 'GET',
      connections: 1,
      timeoutMs: 10_000,
    });
    assert.equal((await call(b)).code, 'UND_ERR_PARSER');
    a.close();
    b.close();
  });

  it('queues beyond its connections and fails queued requests on close', async () => {
    const server = createHttpServer((_req, res) => setTimeout(() => res.end('ok'), 50));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const client = new LeanHttpClient({
      url: url(server),
      method: 'GET',
      connections: 2,
      timeoutMs: 10_000,
    });
    const results = await Promise.all(Array.from({ length: 6 }, () => call(client)));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    const pending = [call(client), call(client), call(client)];
    client.close();
    const closed = await Promise.all(pending);
    assert.ok(closed.some((r) => r.code === 'UND_ERR_CLOSED'));
    server.closeAllConnections();
  });
});
