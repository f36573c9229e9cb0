/**
 * Reused read buffers for sockets a `net.Server` accepted.
 *
 * Node reads every socket into a fresh 64 KiB `ArrayBuffer` unless the socket was made with the
 * `onread` option, which lets reads land in a buffer the caller reuses. Those per-read buffers
 * are external memory that V8 counts against the old generation's allocation limit until a
 * scavenge frees them; in a process whose heap is past V8's ≈ 8 MB incremental-marking threshold
 * they start a full mark-compact every few hundred reads, which halved the proxy's bulk
 * throughput in the client→upstream direction (BENCHMARKS.md, "a garbage-collection cost").
 *
 * Node 20 offers `onread` to `net.connect` but not to `net.createServer`. So an accepted socket
 * is adopted: its libuv handle (still paused: the server uses `pauseOnConnect`) is given to a new
 * `net.Socket` made with `onread`, exactly as Node's own server builds the socket it emits, and
 * the original object, now without a handle, is dropped. This uses the socket's `_handle`, which
 * Node documents nowhere, so every assumption is checked first and the original socket is
 * returned unchanged when one fails (a Node that changed its internals keeps working, only
 * slower). The proxy's 1 GiB hash-compared integrity tests, half-close and backpressure tests
 * run through adopted sockets.
 */
import { Socket } from 'node:net';

/** What `net.Socket` accepts as `onread`, with the buffer chosen per read. */
export interface UserReads {
  buffer: () => Uint8Array;
  callback: (bytesRead: number, buffer: Uint8Array) => boolean;
}

interface HandleBearing {
  _handle?: { useUserBuffer?: unknown; readStop?: unknown; reading?: boolean } | null;
  _server?: unknown;
  server?: unknown;
}

/**
 * Returns a socket on the same connection whose reads go through `reads`, or `undefined` when
 * this socket cannot be adopted (not a plain TCP socket, already reading or closed, or a Node
 * whose internals differ); the caller then keeps the original and its 'data' events.
 */
export function adoptWithUserReads(socket: Socket, reads: UserReads): Socket | undefined {
  if (Object.getPrototypeOf(socket) !== Socket.prototype) return undefined; // TLS and other subclasses
  const bearer = socket as unknown as HandleBearing;
  const handle = bearer._handle;
  if (
    !handle ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof handle.readStop !== 'function' ||
    handle.reading === true ||
    socket.destroyed ||
    socket.listenerCount('data') > 0 ||
    socket.readableLength > 0
  ) {
    return undefined;
  }
  let adopted: Socket;
  try {
    // `handle` and `pauseOnCreate` are what Node's own server passes; neither is in the types.
    const options = {
      handle,
      allowHalfOpen: socket.allowHalfOpen,
      readable: true,
      writable: true,
      noDelay: true,
      onread: reads,
      // Stays paused until the proxy's link starts reading, as the original was.
      pauseOnCreate: true,
    };
    adopted = new Socket(options);
  } catch {
    return undefined;
  }
  // The original no longer owns the handle: destroying it later must not close the connection.
  bearer._handle = null;
  // The server counts its connections down when a socket carrying `_server` is destroyed: that
  // is now the adopted socket, and only it.
  const adoptedBearer = adopted as unknown as HandleBearing;
  adoptedBearer._server = bearer._server;
  adoptedBearer.server = bearer.server;
  bearer._server = null;
  return adopted;
}
