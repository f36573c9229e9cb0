/**
 * Child process: the upstream servers every system under test sits in front of.
 *
 * - echo:   writes back whatever it reads (round trips, connection rate, idle connections);
 * - sink:   reads an 8-byte big-endian length, discards that many bytes, answers one byte "K"
 *           (upload throughput, without relying on half-close, which a bare pipe proxy lacks);
 * - source: reads an 8-byte length and sends that many bytes (download throughput, bandwidth);
 * - stream: says "h", then on "g" sends 16 KiB chunks for as long as the reader keeps up, or on
 *           "p" one 16 KiB chunk every 250 ms (control API under load).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { cpuMs, memorySample, serveParent } from './ipc.js';

export interface UpstreamInfo {
  echo: number;
  sink: number;
  source: number;
  stream: number;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const STREAM_CHUNK = Buffer.alloc(16 * 1024, 0x33);
const sockets = new Set<Socket>();

function track(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
}

/** Reads an 8-byte length header, then hands every later byte to `body`. */
function withHeader(
  socket: Socket,
  onHeader: (length: number, rest: Buffer) => void,
  body?: (chunk: Buffer) => void,
): void {
  let header: Buffer | undefined = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    if (header === undefined) {
      body?.(chunk);
      return;
    }
    header = Buffer.concat([header, chunk]);
    if (header.length < 8) return;
    const length = Number(header.readBigUInt64BE(0));
    const rest = header.subarray(8);
    header = undefined;
    onHeader(length, rest);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
}

const echo = createServer((socket) => {
  track(socket);
  socket.on('data', (chunk: Buffer) => socket.write(chunk));
});

const sink = createServer((socket) => {
  track(socket);
  let remaining = 0;
  const consume = (bytes: number): void => {
    remaining -= bytes;
    if (remaining === 0) socket.write('K');
  };
  withHeader(
    socket,
    (length, rest) => {
      remaining = length;
      if (rest.length > 0 || length === 0) consume(rest.length);
    },
    (chunk) => consume(chunk.length),
  );
});

const source = createServer((socket) => {
  track(socket);
  withHeader(socket, (length) => {
    let left = length;
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return;
      }
    };
    socket.on('drain', pump);
    pump();
  });
});

/** Paced streams get one 16 KiB chunk every PACE_MS (64 KB/s each). */
const PACE_MS = 250;
const stream = createServer((socket) => {
  track(socket);
  // "h" says the path is open end to end; the client then starts the stream with "g" (as fast
  // as the reader allows) or "p" (paced), so that a thousand connections can be opened first.
  socket.write('h');
  socket.once('data', (chunk: Buffer) => {
    if (chunk[0] === 0x67 /* g */) {
      const pump = (): void => {
        while (!socket.destroyed && socket.write(STREAM_CHUNK));
      };
      socket.on('drain', pump);
      pump();
    } else {
      const start = setTimeout(() => {
        const timer = setInterval(() => {
          if (socket.destroyed) clearInterval(timer);
          else if (socket.writableLength < 4 * STREAM_CHUNK.length) socket.write(STREAM_CHUNK);
        }, PACE_MS);
        socket.once('close', () => clearInterval(timer));
      }, Math.random() * PACE_MS);
      socket.once('close', () => clearTimeout(start));
    }
  });
});

const info: UpstreamInfo = {
  echo: await listen(echo),
  sink: await listen(sink),
  source: await listen(source),
  stream: await listen(stream),
};

serveParent(info, {
  cpu: () => cpuMs(),
  mem: () => memorySample(),
  sockets: () => sockets.size,
  closeAll: () => {
    for (const socket of sockets) socket.destroy();
    return sockets.size;
  },
});
