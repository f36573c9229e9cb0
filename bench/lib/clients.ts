/**
 * Child process: holds many client connections, so that thousands of sockets do not share the
 * load generator's event loop.
 *
 * - `stream {port, count}`: opens `count` connections to the stream server that read and
 *   discard; resolves once every one has its "h" (the control-API stage); `go {paced}` starts
 *   them all.
 * - `idle {port, count}`: opens `count` connections, one 1-byte round trip on each (so the
 *   proxy has dialled the upstream), then leaves them idle (the memory stage).
 * - `bytes`: bytes received so far by the streaming connections; `closeAll`: destroys all.
 */
import { connect, type Socket } from 'node:net';
import { cpuMs, serveParent } from './ipc.js';

const sockets = new Set<Socket>();
let received = 0;

function open(port: number): Socket {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  sockets.add(socket);
  socket.on('error', () => undefined);
  socket.once('close', () => sockets.delete(socket));
  return socket;
}

async function inBatches(count: number, batch: number, one: () => Promise<void>): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await Promise.all(Array.from({ length: n }, one));
  }
}

/** Opens a connection to the stream server (through a proxy) and waits for its "h". */
function streamOne(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = open(port);
    socket.once('error', reject);
    socket.once('data', () => {
      socket.off('error', reject);
      resolve();
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
  });
}

function idleOne(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = open(port);
    socket.once('error', reject);
    socket.once('connect', () => socket.write('x'));
    socket.once('data', () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

serveParent(
  { pid: process.pid },
  {
    stream: async (args) => {
      const { port, count } = args as { port: number; count: number };
      await inBatches(count, 200, () => streamOne(port));
      return sockets.size;
    },
    go: (args) => {
      const { paced } = args as { paced: boolean };
      for (const socket of sockets) socket.write(paced ? 'p' : 'g');
      return sockets.size;
    },
    idle: async (args) => {
      const { port, count } = args as { port: number; count: number };
      await inBatches(count, 500, () => idleOne(port));
      return sockets.size;
    },
    bytes: () => received,
    cpu: () => cpuMs(),
    closeAll: async () => {
      const all = [...sockets];
      for (const socket of all) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return all.length;
    },
  },
);
