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
 * Node 20 offers `onread` to `net.connect` but not to `net.createServer`. So an accepted socket,
 * still paused (the server uses `pauseOnConnect`), is given user reads in place: the three
 * per-socket slots that `new net.Socket({ onread })` fills (the buffer, the function that makes
 * the next one, the callback; Node reads them in `onStreamRead`) are filled on the accepted
 * socket, and its handle is told to read into the first buffer, exactly what Node's socket
 * constructor does. An earlier version handed the handle to a second `net.Socket` made with
 * `onread`: a whole second socket (streams, state, emitter) per accepted connection, a fifth of
 * the proxy's JavaScript per short connection (BENCHMARKS.md, issue #22).
 *
 * Those slots are keyed by symbols Node does not export; they are found by their descriptions on
 * a socket this module makes with `onread`, and every assumption is checked first: when one
 * fails the socket is left alone and keeps its 'data' events (a Node that changed its internals
 * keeps working, only slower). The proxy's 1 GiB hash-compared integrity tests, half-close and
 * backpressure tests run through such sockets.
 */
import { Socket } from 'node:net';

/** What `net.Socket` accepts as `onread`, with the buffer chosen per read. */
export interface UserReads {
  buffer: () => Uint8Array;
  callback: (bytesRead: number, buffer: Uint8Array) => boolean;
}

interface Handle {
  useUserBuffer?: unknown;
  readStop?: unknown;
  reading?: boolean;
}

interface Slots {
  buffer: symbol;
  generator: symbol;
  callback: symbol;
}

/**
 * The socket's user-read slots, as a socket made with `onread` has them: its buffer slot `true`
 * (a generator is used), and the generator and callback slots holding what was passed.
 */
function findSlots(): Slots | undefined {
  const generator = (): Uint8Array => new Uint8Array(1);
  const callback = (): boolean => true;
  let probe: Socket;
  try {
    // `onread` is accepted by the constructor (net.connect passes it through) but not typed.
    const options: Record<string, unknown> = { onread: { buffer: generator, callback } };
    probe = new Socket(options);
  } catch {
    return undefined;
  }
  const bag = probe as unknown as Record<symbol, unknown>;
  const byName = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
  const buffer = byName.get('kBuffer');
  const gen = byName.get('kBufferGen');
  const cb = byName.get('kBufferCb');
  probe.destroy();
  if (!buffer || !gen || !cb) return undefined;
  if (bag[buffer] !== true || bag[gen] !== generator || bag[cb] !== callback) return undefined;
  return { buffer, generator: gen, callback: cb };
}

const slots = findSlots();

/**
 * Makes the reads of `socket` (an accepted, paused, plain TCP socket) land in the buffers
 * `reads.buffer()` hands out and arrive through `reads.callback` instead of 'data' events.
 * Returns false, leaving the socket untouched, when it cannot (not a plain TCP socket, already
 * reading or closed, or a Node whose internals differ).
 */
export function useUserReads(socket: Socket, reads: UserReads): boolean {
  if (!slots) return false;
  if (Object.getPrototypeOf(socket) !== Socket.prototype) return false; // TLS and other subclasses
  const handle = (socket as unknown as { _handle?: Handle | null })._handle;
  const bag = socket as unknown as Record<symbol, unknown>;
  if (
    !handle ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof handle.readStop !== 'function' ||
    handle.reading === true ||
    socket.destroyed ||
    socket.listenerCount('data') > 0 ||
    socket.readableLength > 0 ||
    // A plain socket has the three slots, empty.
    !(slots.buffer in bag) ||
    bag[slots.buffer] !== null ||
    bag[slots.generator] !== null ||
    bag[slots.callback] !== null
  ) {
    return false;
  }
  const first = reads.buffer();
  try {
    (handle.useUserBuffer as (this: Handle, buffer: Uint8Array) => void).call(handle, first);
  } catch {
    return false;
  }
  bag[slots.buffer] = first;
  bag[slots.generator] = reads.buffer;
  bag[slots.callback] = reads.callback;
  return true;
}
