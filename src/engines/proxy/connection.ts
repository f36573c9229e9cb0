/**
 * One client connection through a TCP-mode proxy: the client socket, the upstream socket and
 * the two links between them.
 *
 * ```
 *            ┌──────────── upstream link ────────────┐
 *   client ──┤                                        ├── upstream server
 *            └─────────── downstream link ◀───────────┘
 * ```
 *
 * Half-close propagates: when the client ends its write side, the upstream's write side is
 * ended and the reply still flows back (Toxiproxy closes both directions instead). The
 * connection is torn down when both directions have ended, when either socket fails (an RST
 * from one peer is passed on as an RST to the other), or when a toxic closes or resets it.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Link, PARKING_READ_BUFFER, type DirectionCounters, type LinkHost } from './link.js';
import { useUserReads } from './user-reads.js';
import type { StreamDirection } from './toxics/toxic.js';
import type { ToxicEntry } from './toxic-entry.js';
import type { Wiring } from './rewire-sweep.js';

/** What a connection needs from its proxy. */
export interface ConnectionHost {
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  readonly upstreamCounters: DirectionCounters;
  readonly downstreamCounters: DirectionCounters;
  /** Dial the upstream with TLS (a TLS proxy in front of a TLS service). */
  readonly upstreamTls?: { servername?: string | undefined; ca?: string | undefined } | undefined;
  random(): number;
  /** A direction's toxics and their version: each link keeps itself in line with it. */
  wiringFor(direction: 'upstream' | 'downstream'): Wiring;
  connectionClosed(connection: ProxyConnection): void;
}

export class ProxyConnection implements LinkHost {
  readonly client: Socket;
  /** The client socket delivers its reads through {@link upRead} (see user-reads.ts). */
  private readonly clientUserReads: boolean;
  private upstream: Socket | undefined;
  /** The upstream accepted the connection (until then an error means "unreachable"). */
  private upstreamConnected = false;
  /** The client socket has no TCP_NODELAY yet: its link sets it when a write needs it. */
  private readonly clientLazyNoDelay: boolean;
  private up: Link | undefined;
  private down: Link | undefined;
  private readonly host: ConnectionHost;
  private closed = false;
  private delayTimer: NodeJS.Timeout | undefined;
  /** Set when a `blackhole` toxic swallowed this connection. */
  blackholedBy: ToxicEntry | undefined;

  constructor(client: Socket, host: ConnectionHost, options: { lazyNoDelay?: boolean } = {}) {
    this.clientLazyNoDelay = options.lazyNoDelay ?? false;
    // Reads from the client go into the upstream link's reused buffer, as the upstream's do
    // into the downstream link's: no allocation per read in either direction.
    this.clientUserReads = useUserReads(client, {
      buffer: () => this.upReadBuffer(),
      callback: (n: number, b: Uint8Array) => this.upRead(n, b),
    });
    this.client = client;
    this.host = host;
    this.client.on('error', this.onClientError);
    this.client.on('close', this.onSocketClose);
  }

  /** Dials the upstream (after `delay` ms for a connect_delay toxic) and starts both links. */
  open(delay: number): void {
    if (delay > 0) {
      this.delayTimer = setTimeout(() => {
        this.delayTimer = undefined;
        this.dial();
      }, delay);
    } else {
      this.dial();
    }
  }

  /** Accepts and never answers: read and discard whatever the client sends. */
  blackhole(toxic: ToxicEntry): void {
    this.blackholedBy = toxic;
    // With user reads the bytes arrive through upRead, which counts and drops them.
    if (!this.clientUserReads) {
      this.client.on('data', (chunk: Buffer) => {
        toxic.stats.bytes += chunk.length;
      });
    }
    this.client.resume();
  }

  private dial(): void {
    if (this.closed) return;
    const tls = this.host.upstreamTls;
    const host = this.host.upstreamHost;
    const upstream: Socket = tls
      ? connectTls({
          host,
          port: this.host.upstreamPort,
          ...(tls.servername
            ? { servername: tls.servername }
            : isIP(host)
              ? {}
              : { servername: host }),
          ...(tls.ca ? { ca: tls.ca } : {}),
        })
      : connect({
          host,
          port: this.host.upstreamPort,
          allowHalfOpen: true,
          // Reads from the upstream go into the downstream link's reused buffer (see
          // Link.onRead): no allocation per read. TCP_NODELAY is set by the link when a write
          // needs it (Link.beforeWrite), not here: a short connection never needs it.
          onread: {
            buffer: () => this.downReadBuffer(),
            callback: (n: number, b: Uint8Array) => this.downRead(n, b),
          },
        });
    this.upstream = upstream;
    upstream.on('error', this.onUpstreamError);
    upstream.on('close', this.onSocketClose);
    if (tls) {
      upstream.once('secureConnect', () => {
        this.upstreamConnected = true;
        if (!this.closed) this.startLinks(upstream, true);
      });
      return;
    }
    upstream.on('connect', this.onUpstreamConnect);
    // A plain upstream: both links start now, as a bare pipe does. Whatever the client sends
    // while the upstream is still connecting waits in the upstream socket's write queue (and
    // an early EOF in its pending end), so the first bytes need no extra loop turn.
    this.startLinks(upstream, false);
  }

  private startLinks(upstream: Socket, tls: boolean): void {
    this.up = new Link('upstream', this.client, upstream, this, this.host.upstreamCounters, {
      wiring: this.host.wiringFor('upstream'),
      userReads: this.clientUserReads,
      lazyNoDelay: !tls,
    });
    this.down = new Link('downstream', upstream, this.client, this, this.host.downstreamCounters, {
      wiring: this.host.wiringFor('downstream'),
      userReads: !tls,
      lazyNoDelay: this.clientLazyNoDelay,
    });
    this.up.sync();
    this.down.sync();
    this.up.start();
    this.down.start();
  }

  /** The upstream socket's next read buffer: the downstream link's, once it exists. Node asks
   * for the first one when the socket is created, before the link; no read lands in it before
   * the link exists, and the link copies what arrives in a buffer that is not its own. */
  private downReadBuffer(): Uint8Array {
    return this.down ? this.down.nextReadBuffer() : PARKING_READ_BUFFER;
  }

  /** Bytes read from the upstream. None can arrive before the links exist. */
  private downRead(length: number, buffer: Uint8Array): boolean {
    return this.down ? this.down.onRead(length, buffer) : false;
  }

  /** The client socket's next read buffer (one with user reads): the upstream link's, once it exists. */
  private upReadBuffer(): Uint8Array {
    return this.up ? this.up.nextReadBuffer() : PARKING_READ_BUFFER;
  }

  /** Bytes read from the client socket (user reads). Reading starts when the upstream link starts,
   * or when a blackhole toxic swallows the connection (it counts the bytes and drops them). */
  private upRead(length: number, buffer: Uint8Array): boolean {
    if (this.up) return this.up.onRead(length, buffer);
    if (this.blackholedBy) {
      this.blackholedBy.stats.bytes += length;
      return true;
    }
    return false;
  }

  /** Re-applies the proxy's current toxics to this live connection (one direction, or both). */
  rewire(direction?: StreamDirection): void {
    if (this.closed) return;
    if (direction !== 'downstream') this.up?.sync();
    if (direction !== 'upstream') this.down?.sync();
  }

  random(): number {
    return this.host.random();
  }

  linkEnded(): void {
    // Both directions done: the sockets close on their own once both FINs have crossed.
    if (
      this.up?.isEnded &&
      this.down?.isEnded &&
      this.client.destroyed &&
      this.upstream?.destroyed
    ) {
      this.finish();
    }
  }

  /** Closes both sides with FIN. */
  close(): void {
    if (this.closed) return;
    this.finish();
    this.client.destroy();
    this.upstream?.destroy();
  }

  /** Aborts both sides with RST. */
  reset(): void {
    if (this.closed) return;
    this.finish();
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
  }

  private finish(): void {
    this.closed = true;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.up?.dispose();
    this.down?.dispose();
    this.host.connectionClosed(this);
  }

  private readonly onClientError = (err: NodeJS.ErrnoException): void => {
    if (this.closed) return;
    if (err.code === 'ECONNRESET') this.reset();
    else this.close();
  };

  private readonly onUpstreamConnect = (): void => {
    this.upstreamConnected = true;
  };

  private readonly onUpstreamError = (err: NodeJS.ErrnoException): void => {
    if (this.closed) return;
    // An upstream that refuses or cannot be reached: the client sees its connection closed,
    // as with Toxiproxy. An RST from an established upstream is passed on as an RST.
    if (err.code === 'ECONNRESET' && this.upstreamConnected) this.reset();
    else this.close();
  };

  private readonly onSocketClose = (): void => {
    if (this.closed) return;
    // A socket that closes without an error has finished both its directions, and the other
    // socket follows as soon as the links have forwarded what they still hold (a latency toxic
    // may hold the last bytes and the EOF). Errors are handled by the error listeners.
    if (this.client.destroyed && (this.upstream?.destroyed ?? true)) this.finish();
  };
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function' && socket.readyState !== 'opening') {
    socket.resetAndDestroy();
  } else {
    socket.destroy();
  }
}
