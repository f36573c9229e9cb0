/**
 * faultline's own traffic, told apart from the service's. A probe that reaches the database
 * through the fault proxy (a reconciliation query), an action that calls the service, or load
 * sent through a proxy all make connections a fault can touch — but they are not the system
 * under test, and a fault that touched only them never tested the hypothesis.
 *
 * Every activity the runner executes, and its load, runs inside an AsyncLocalStorage context,
 * and a TCP client socket that connects inside it is faultline's. Connects are seen by wrapping
 * `net.Socket.prototype.connect` while a run lasts: Node's `net.client.socket` diagnostics
 * channel reports only `net.connect()`, not the `new Socket().connect()` that pg and others
 * use. A service running in the same process (a test's) connects outside the context, so it is
 * never mistaken for faultline.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

interface OwnSocket {
  host: string;
  port: number;
  /** performance.now() when it connected and when it closed. */
  opened: number;
  closed: number | undefined;
}

/** The runs watching connects now, and the original `connect` while any does. */
const watching = new Set<OwnTraffic>();
let original: Socket['connect'] | undefined;

function install(): void {
  if (original) return;
  // Taken off the prototype to be called with the socket as `this`, never detached from one.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to the socket below
  const connect = Socket.prototype.connect;
  original = connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]): Socket {
    for (const traffic of watching) traffic.consider(this);
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  };
}

function uninstall(): void {
  if (watching.size > 0 || !original) return;
  Socket.prototype.connect = original;
  original = undefined;
}

export class OwnTraffic {
  private readonly context = new AsyncLocalStorage<true>();
  private readonly sockets: OwnSocket[] = [];
  private readonly seen = new WeakSet<Socket>();

  /** A socket about to connect: faultline's own when it connects inside the context. */
  consider(socket: Socket): void {
    if (this.context.getStore() !== true || this.seen.has(socket)) return;
    this.seen.add(socket);
    socket.once('connect', () => {
      const own: OwnSocket = {
        host: socket.remoteAddress ?? '',
        port: socket.remotePort ?? 0,
        opened: performance.now(),
        closed: undefined,
      };
      this.sockets.push(own);
      socket.once('close', () => (own.closed = performance.now()));
    });
  }

  start(): void {
    watching.add(this);
    install();
  }

  stop(): void {
    watching.delete(this);
    uninstall();
  }

  /** Runs `fn` as faultline's own: every connection it (or what it starts) makes is counted as such. */
  run<T>(fn: () => T): T {
    return this.context.run(true, fn);
  }

  /**
   * faultline's own connections to `address` (`host:port`) that were open at some time between
   * `from` and `to` (performance.now() times).
   */
  connectionsTo(address: string, from: number, to: number): number {
    const { host, port } = splitAddress(address);
    return this.sockets.filter(
      (s) =>
        s.port === port &&
        sameHost(s.host, host) &&
        s.opened <= to &&
        (s.closed === undefined || s.closed >= from),
    ).length;
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** A proxy listening on 0.0.0.0 or :: is reached on any address; `localhost` is loopback. */
function sameHost(connected: string, listen: string): boolean {
  const plain = (h: string): string => h.replace(/^::ffff:/, '');
  const a = plain(connected);
  const b = plain(listen);
  if (a === b || b === '0.0.0.0' || b === '::' || b === '') return true;
  const loopback = (h: string): boolean => h === 'localhost' || h === '::1' || h.startsWith('127.');
  return loopback(a) && loopback(b);
}
