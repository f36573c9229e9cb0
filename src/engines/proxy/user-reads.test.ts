import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { useUserReads } from './user-reads.js';

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('useUserReads', () => {
  it('gives an accepted socket user reads on this Node: reads land in the given buffers, in order, then EOF; writes and the server count still work', async () => {
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    const port = await listening(server);
    const buffers = [Buffer.alloc(4096), Buffer.alloc(4096)];
    let turn = 0;
    const handed = new Set<Uint8Array>();
    const received: Buffer[] = [];
    let foreign = 0;
    const accepted = new Promise<Socket>((resolve) => {
      server.once('connection', (socket: Socket) => {
        const ok = useUserReads(socket, {
          buffer: () => {
            const b = buffers[turn++ % 2]!;
            handed.add(b);
            return b;
          },
          callback: (n, b) => {
            if (!handed.has(b)) foreign++;
            received.push(Buffer.from(b.subarray(0, n)));
            return true;
          },
        });
        assert.ok(
          ok,
          'Node 20 internals allow user reads on an accepted socket (otherwise the proxy silently falls back to a copy per read)',
        );
        socket.on('data', () => assert.fail('user reads deliver no data events'));
        resolve(socket);
      });
    });
    const client = connect(port, '127.0.0.1');
    const socket = await accepted;
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) % 251;
    socket.resume();
    client.end(payload);
    await once(socket, 'end');
    assert.equal(foreign, 0, 'every read landed in a buffer the caller handed out');
    assert.ok(Buffer.concat(received).equals(payload), 'the bytes arrive whole and in order');
    // Half-close: the reply still reaches the client after its end.
    const reply = once(client, 'data');
    const closed = once(socket, 'close');
    socket.end('done');
    assert.equal(String((await reply)[0]), 'done');
    await closed;
    const count = await new Promise<number>((resolve, reject) =>
      server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
    assert.equal(count, 0, 'the server counted the connection down when the socket closed');
    client.destroy();
    server.close();
  });

  it('pauses reading when asked and resumes without losing a byte', async () => {
    const server = createServer({ pauseOnConnect: true });
    const port = await listening(server);
    const buffer = Buffer.alloc(1024);
    let total = 0;
    const accepted = new Promise<Socket>((resolve) => {
      server.once('connection', (socket: Socket) => {
        assert.ok(
          useUserReads(socket, {
            buffer: () => buffer,
            callback: (n) => ((total += n), true),
          }),
        );
        resolve(socket);
      });
    });
    const client = connect(port, '127.0.0.1');
    const socket = await accepted;
    client.write(Buffer.alloc(10_000, 1));
    // Still paused (pauseOnConnect): nothing is read until resume.
    await new Promise((r) => setImmediate(r));
    assert.equal(total, 0);
    socket.resume();
    while (total < 10_000) await new Promise((r) => setImmediate(r));
    socket.pause();
    client.write(Buffer.alloc(5_000, 2));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(total, 10_000, 'a paused socket reads nothing');
    socket.resume();
    while (total < 15_000) await new Promise((r) => setImmediate(r));
    assert.equal(total, 15_000);
    client.destroy();
    socket.destroy();
    server.close();
  });

  it('leaves a socket it cannot change alone (already reading, or not a plain TCP socket)', async () => {
    const server = createServer();
    const port = await listening(server);
    const got = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect(port, '127.0.0.1');
    const original = await got;
    original.on('data', () => {});
    assert.equal(
      useUserReads(original, { buffer: () => Buffer.alloc(16), callback: () => true }),
      false,
    );
    client.end('still here');
    const [data] = await once(original, 'data');
    assert.equal(String(data), 'still here');
    original.destroy();
    server.close();
  });
});
