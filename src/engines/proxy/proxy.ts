/**
 * A fault proxy: one listener in front of one upstream, with the toxics that act on the traffic
 * between them.
 *
 * ```
 *   client ──▶ listen ──[connect toxics]──▶ ProxyConnection ──[stream toxics]──▶ upstream
 *   (HTTP mode)  listen ──▶ HTTP server ──[request toxics]──▶ keep-alive agent ──▶ upstream
 * ```
 *
 * Toxics are shared configuration; each connection builds its own stages from them and
 * rewires itself before its next chunk when they change, so a fault added or removed on a live
 * connection takes effect on its next byte; a sweep rewires the connections that read nothing
 * meanwhile within a few loop turns (rewire-sweep.ts). Toxics may carry a lease (`expires_in`): the proxy removes them by
 * itself at the deadline, so a runner that dies cannot leave the fault behind. Counters of
 * connections, bytes and requests, per proxy and per toxic, are live (Toxiproxy counts bytes
 * only when a connection closes).
 */
import { MAX_TIMER_MS } from '../../shared/timer-bounds.js';
import { createServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type Server as TlsServer,
  type TLSSocket,
} from 'node:tls';
import { ConflictError, ListenError, NotFoundError, BadRequestError } from '../../errors.js';
import type { StreamDirection } from './toxics/toxic.js';
import {
  formatHostPort,
  parseListen,
  parseUpstream,
  sameListen,
  type HostPort,
} from './address.js';
import { ProxyConnection, type ConnectionHost } from './connection.js';
import { RewireSweep, type Wiring } from './rewire-sweep.js';
import { HttpModeServer } from './http-mode.js';
import type { DirectionCounters } from './link.js';
import type { RandomSource } from './random.js';
import {
  parseToxicPatch,
  parseToxicSpec,
  ToxicEntry,
  type ToxicJson,
  type ToxicPatch,
  type ToxicSpec,
} from './toxic-entry.js';

/** `tcp` proxies bytes; `http` understands HTTP/1.1 requests and takes request toxics. */
export type ProxyMode = 'tcp' | 'http';

/** Live counters of a proxy. */
export interface ProxyStats {
  /** Connections accepted since the proxy was created. */
  connections_total: number;
  /** Connections open now. */
  connections_active: number;
  /** Bytes from clients to the upstream (read from clients). */
  bytes_upstream: number;
  /** Bytes from the upstream to clients (read from the upstream). */
  bytes_downstream: number;
  /** HTTP requests seen (HTTP mode). */
  requests: number;
}

/** The JSON shape of a proxy on the API: Toxiproxy's fields, then faultline's extensions. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
  mode: ProxyMode;
  disabled_until?: string;
  stats: ProxyStats;
}

/**
 * TLS toward the client: the proxy terminates TLS with this key and certificate (chain), and
 * can swap them for new connections ({@link FaultProxy.setCertificate}: the certificate fault).
 * With `upstream`, the proxy dials the upstream with TLS again, verifying it with `ca` (or the
 * system CAs) against `servername` (or the upstream's host).
 */
export interface ProxyTls {
  key: string;
  cert: string;
  upstream?: { servername?: string | undefined; ca?: string | undefined } | undefined;
}

/** Counters of a TLS proxy's handshakes. */
export interface TlsStats {
  /** TCP connections accepted by the TLS listener. */
  connections: number;
  /** Handshakes that completed (the client accepted the certificate). */
  handshakes: number;
  /** Handshakes the client broke off or that failed (a rejected certificate, mostly). */
  failed: number;
}

export interface FaultProxyOptions {
  name: string;
  listen: string;
  upstream: string;
  mode: ProxyMode;
  random: RandomSource;
  /** Called when a lease expires and the proxy removes a fault by itself. */
  onLeaseExpired?: ((proxy: FaultProxy, what: string) => void) | undefined;
  /** Terminate TLS toward the client (tcp mode). */
  tls?: ProxyTls | undefined;
}

export class FaultProxy implements ConnectionHost {
  readonly name: string;
  readonly mode: ProxyMode;
  private requestedListen: string;
  private bound: HostPort | undefined;
  private upstreamAddress: string;
  private upstreamHostPort: HostPort;
  private enabledState = false;
  private server: Server | HttpModeServer | undefined;
  private readonly upstreamToxics: ToxicEntry[] = [];
  private readonly downstreamToxics: ToxicEntry[] = [];
  /** Versions of each direction's toxics: links rewire themselves when theirs is behind. */
  private readonly wiring = {
    upstream: { version: 0, toxics: this.upstreamToxics },
    downstream: { version: 0, toxics: this.downstreamToxics },
  };
  private readonly sweep = new RewireSweep();
  private readonly leases = new Map<ToxicEntry, NodeJS.Timeout>();
  private disableLease: { until: Date; timer: NodeJS.Timeout } | undefined;
  readonly connections = new Set<ProxyConnection>();
  readonly upstreamCounters: DirectionCounters = { received: 0, sent: 0 };
  readonly downstreamCounters: DirectionCounters = { received: 0, sent: 0 };
  private readonly counters = { connectionsTotal: 0, requests: 0 };
  readonly random: RandomSource;
  private readonly onLeaseExpired: FaultProxyOptions['onLeaseExpired'];
  private readonly tls: ProxyTls | undefined;
  private certificate: { key: string; cert: string } | undefined;
  readonly tlsStats: TlsStats = { connections: 0, handshakes: 0, failed: 0 };
  /** Raw sockets of the TLS listener, handshaking ones included (closed at stop). */
  private readonly tlsSockets = new Set<Socket>();

  constructor(options: FaultProxyOptions) {
    this.name = options.name;
    this.mode = options.mode;
    this.requestedListen = options.listen;
    this.upstreamAddress = options.upstream;
    this.upstreamHostPort = parseUpstream(options.upstream);
    this.random = options.random;
    this.onLeaseExpired = options.onLeaseExpired;
    if (options.tls && options.mode !== 'tcp')
      throw new BadRequestError('TLS needs a proxy in tcp mode', {
        hint: 'HTTP faults cannot see inside TLS',
      });
    this.tls = options.tls;
    this.certificate = options.tls ? { key: options.tls.key, cert: options.tls.cert } : undefined;
    parseListen(options.listen);
  }

  /** The address the proxy listens on: the real bound address once started. */
  get listen(): string {
    return this.bound ? formatHostPort(this.bound.host, this.bound.port) : this.requestedListen;
  }

  /** The port the proxy listens on (0 before it first started). */
  get port(): number {
    return this.bound?.port ?? 0;
  }

  get upstream(): string {
    return this.upstreamAddress;
  }

  get upstreamHost(): string {
    return this.upstreamHostPort.host;
  }

  get upstreamPort(): number {
    return this.upstreamHostPort.port;
  }

  get enabled(): boolean {
    return this.enabledState;
  }

  /** TLS toward the upstream (a TLS proxy whose upstream speaks TLS), for its connections. */
  get upstreamTls(): ProxyTls['upstream'] {
    return this.tls?.upstream;
  }

  /** The certificate (chain) presented to new connections; undefined without TLS. */
  get presentedCertificate(): string | undefined {
    return this.certificate?.cert;
  }

  /**
   * Presents another key and certificate to NEW connections (live ones keep theirs, as with a
   * real certificate rotation). The certificate fault uses it, and removal restores the good one.
   */
  setCertificate(certificate: { key: string; cert: string }): void {
    if (!this.tls) throw new BadRequestError(`proxy "${this.name}" does not terminate TLS`);
    this.certificate = { ...certificate };
    if (
      this.server &&
      !(this.server instanceof HttpModeServer) &&
      'setSecureContext' in this.server
    ) {
      (this.server as TlsServer).setSecureContext({ key: certificate.key, cert: certificate.cert });
    }
  }

  /** The address to listen on next: the bound one if we were started before, so a re-enabled proxy keeps its port. */
  get listenTarget(): HostPort {
    return this.bound ?? parseListen(this.requestedListen);
  }

  /** Starts listening. Idempotent. */
  async start(): Promise<void> {
    // Enabled by hand before an outage's lease ran out: the lease has nothing left to do.
    this.clearDisableLease();
    if (this.enabledState) return;
    // Single flight: two callers enabling at once (a stop condition and the clean-up racing to
    // end an outage) share one listen instead of the second failing with EADDRINUSE.
    this.starting ??= this.listenNow().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private starting: Promise<void> | undefined;

  private async listenNow(): Promise<void> {
    const target = this.listenTarget;
    const server =
      this.mode === 'http'
        ? new HttpModeServer(this)
        : this.certificate
          ? this.tlsServer(this.certificate)
          : // No noDelay here: the links set TCP_NODELAY when a write needs it (Link.beforeWrite).
            createServer({ pauseOnConnect: true, allowHalfOpen: true }, this.accept);
    await listenOn(server, target);
    const address = server.address();
    if (address && typeof address === 'object')
      this.bound = { host: address.address, port: address.port };
    this.server = server;
    this.enabledState = true;
  }

  /**
   * The TLS listener: the handshake completes first (a client that rejects the certificate
   * never reaches the upstream), then the decrypted socket enters the same data path as a
   * plain connection, with every toxic.
   */
  private tlsServer(certificate: { key: string; cert: string }): TlsServer {
    const server = createTlsServer({
      key: certificate.key,
      cert: certificate.cert,
      allowHalfOpen: true,
      handshakeTimeout: 10_000,
    });
    server.on('connection', (socket: Socket) => {
      this.tlsStats.connections++;
      socket.setNoDelay(true);
      this.tlsSockets.add(socket);
      socket.once('close', () => this.tlsSockets.delete(socket));
    });
    server.on('tlsClientError', (_err, socket) => {
      this.tlsStats.failed++;
      socket.destroy();
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      this.tlsStats.handshakes++;
      socket.pause();
      this.acceptSocket(socket, false);
    });
    return server;
  }

  /** Stops listening and closes every live connection (FIN). Idempotent. */
  async stop(): Promise<void> {
    this.clearDisableLease();
    if (!this.enabledState) return;
    this.enabledState = false;
    const server = this.server;
    this.server = undefined;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    for (const connection of [...this.connections]) connection.close();
    if (server instanceof HttpModeServer) server.closeAllConnections();
    // A handshake a client abandoned would hold the TLS server's close for its 120 s timeout.
    for (const socket of this.tlsSockets) socket.destroy();
    await closed;
  }

  /**
   * Disables the proxy (new connections refused, live ones closed). With `expiresIn` seconds,
   * the proxy re-enables itself at the deadline: an outage with a lease.
   */
  async disable(expiresIn?: number): Promise<void> {
    await this.stop();
    if (expiresIn !== undefined && expiresIn > 0) {
      const until = new Date(Date.now() + expiresIn * 1000);
      const timer = setTimeout(
        () => {
          this.disableLease = undefined;
          this.start().then(
            () => this.onLeaseExpired?.(this, 'outage'),
            () => this.onLeaseExpired?.(this, 'outage (re-enable failed)'),
          );
        },
        Math.min(expiresIn * 1000, MAX_TIMER_MS),
      );
      timer.unref();
      this.disableLease = { until, timer };
    }
  }

  private clearDisableLease(): void {
    if (this.disableLease) clearTimeout(this.disableLease.timer);
    this.disableLease = undefined;
  }

  /** Changes the listen and/or upstream address; restarts the proxy when either really changes. */
  async reconfigure(listen: string | undefined, upstream: string | undefined): Promise<void> {
    const newUpstream = upstream ?? this.upstreamAddress;
    const upstreamChanged = newUpstream !== this.upstreamAddress;
    const parsedUpstream = parseUpstream(newUpstream);
    let listenChanged = false;
    if (listen !== undefined) {
      const wanted = parseListen(listen);
      const current = this.listenTarget;
      listenChanged = !sameListen(wanted, current);
    }
    if (!listenChanged && !upstreamChanged) return;
    const wasEnabled = this.enabledState;
    if (wasEnabled) await this.stop();
    this.upstreamAddress = newUpstream;
    this.upstreamHostPort = parsedUpstream;
    if (listenChanged && listen !== undefined) {
      this.requestedListen = listen;
      this.bound = undefined;
    }
    if (wasEnabled) await this.start();
  }

  // --- toxics -------------------------------------------------------------------------------

  /** Every toxic, upstream first then downstream, each in insertion order (Toxiproxy's order). */
  get toxics(): ToxicEntry[] {
    return [...this.upstreamToxics, ...this.downstreamToxics];
  }

  toxicsFor(direction: StreamDirection): readonly ToxicEntry[] {
    return direction === 'upstream' ? this.upstreamToxics : this.downstreamToxics;
  }

  /** The toxics of one direction with their version, for the links (see rewire-sweep.ts). */
  wiringFor(direction: StreamDirection): Wiring {
    return this.wiring[direction];
  }

  getToxic(name: string): ToxicEntry {
    const toxic = this.toxics.find((t) => t.name === name);
    if (!toxic)
      throw new NotFoundError('toxic not found', {
        hint: `proxy "${this.name}" has no toxic named "${name}"`,
      });
    return toxic;
  }

  /**
   * Adds a toxic; it applies to live connections at once. `spec` is typed exactly per toxic
   * type; a body known only at run time goes through {@link addToxicJson}.
   */
  addToxic(spec: ToxicSpec): ToxicEntry {
    return this.addToxicJson(spec);
  }

  /** {@link addToxic} for untyped JSON (the API's body, a plan): checked all the same. */
  addToxicJson(spec: unknown): ToxicEntry {
    const parsed = parseToxicSpec(spec);
    this.checkPhase(parsed.definition.phase, parsed.definition.type);
    if (this.toxics.some((t) => t.name === parsed.name)) {
      throw new ConflictError('toxic already exists', {
        hint: `proxy "${this.name}" already has a toxic named "${parsed.name}"`,
      });
    }
    const entry = new ToxicEntry(
      parsed.name,
      parsed.definition,
      parsed.stream,
      parsed.toxicity,
      parsed.attributes,
    );
    (parsed.stream === 'upstream' ? this.upstreamToxics : this.downstreamToxics).push(entry);
    if (parsed.expiresIn !== undefined) this.lease(entry, parsed.expiresIn);
    this.rewireAll(entry);
    return entry;
  }

  /** Updates a toxic: attributes merged, toxicity kept when absent; applies at once. */
  updateToxic(name: string, patch: ToxicPatch): ToxicEntry {
    return this.updateToxicJson(name, patch);
  }

  /** {@link updateToxic} for untyped JSON (the API's body): checked all the same. */
  updateToxicJson(name: string, patch: unknown): ToxicEntry {
    const entry = this.getToxic(name);
    const parsed = parseToxicPatch(entry, patch);
    if (parsed.attributes) {
      entry.attributes = parsed.attributes;
      entry.attributesVersion++;
    }
    if (parsed.toxicity !== undefined && parsed.toxicity !== entry.toxicity) {
      entry.toxicity = parsed.toxicity;
      entry.toxicityVersion++;
    }
    if (parsed.expiresIn !== undefined) this.lease(entry, parsed.expiresIn);
    this.rewireAll(entry);
    return entry;
  }

  /** Removes a toxic; live connections drain what it held at once. */
  removeToxic(name: string): void {
    const entry = this.getToxic(name);
    this.detach(entry);
    this.rewireAll(entry);
    this.afterRemoval([entry]);
  }

  /** Removes every toxic (part of `/reset`). */
  removeAllToxics(): void {
    const removed = this.toxics;
    for (const entry of removed) this.detach(entry);
    this.rewireAll();
    this.afterRemoval(removed);
  }

  private detach(entry: ToxicEntry): void {
    const list = entry.stream === 'upstream' ? this.upstreamToxics : this.downstreamToxics;
    list.splice(list.indexOf(entry), 1);
    const timer = this.leases.get(entry);
    if (timer) clearTimeout(timer);
    this.leases.delete(entry);
  }

  private afterRemoval(removed: readonly ToxicEntry[]): void {
    // Blackholed connections never carried a byte upstream: they cannot be salvaged.
    for (const connection of [...this.connections]) {
      if (connection.blackholedBy && removed.includes(connection.blackholedBy)) connection.close();
    }
  }

  private lease(entry: ToxicEntry, seconds: number): void {
    const old = this.leases.get(entry);
    if (old) clearTimeout(old);
    this.leases.delete(entry);
    if (seconds === 0) {
      entry.expiresAt = undefined;
      return;
    }
    entry.expiresAt = new Date(Date.now() + seconds * 1000);
    this.armLease(entry);
  }

  private armLease(entry: ToxicEntry): void {
    const remaining = (entry.expiresAt?.getTime() ?? 0) - Date.now();
    const timer = setTimeout(
      () => {
        this.leases.delete(entry);
        if ((entry.expiresAt?.getTime() ?? 0) > Date.now()) {
          this.armLease(entry);
          return;
        }
        if (!this.toxics.includes(entry)) return;
        this.detach(entry);
        this.rewireAll(entry);
        this.afterRemoval([entry]);
        this.onLeaseExpired?.(this, `toxic ${entry.name}`);
      },
      Math.max(0, Math.min(remaining, MAX_TIMER_MS)),
    );
    timer.unref();
    this.leases.set(entry, timer);
  }

  private checkPhase(phase: string, type: string): void {
    if (this.mode === 'tcp' && phase === 'request') {
      throw new BadRequestError(`toxic type ${type} needs a proxy in HTTP mode`, {
        hint: `create the proxy with "mode": "http" to inject HTTP faults`,
      });
    }
    if (this.mode === 'http' && phase !== 'request') {
      throw new BadRequestError(
        `toxic type ${type} acts on TCP streams; proxy "${this.name}" is in HTTP mode`,
        {
          hint: 'use http_delay or http_abort, or a proxy in tcp mode',
        },
      );
    }
  }

  /**
   * Brings live connections in line with a change of `entry`: only the direction it acts on,
   * and nothing at all for connection-open and HTTP toxics (links never carry those). The call
   * itself is O(1): the direction's version is bumped, each link rewires itself before its next
   * chunk, and a sweep rewires the rest a batch per loop turn (rewire-sweep.ts).
   */
  private rewireAll(entry?: ToxicEntry): void {
    if (entry && entry.definition.phase !== 'stream') return;
    const direction = entry?.stream;
    if (direction !== 'downstream') this.wiring.upstream.version++;
    if (direction !== 'upstream') this.wiring.downstream.version++;
    if (this.connections.size > 0) this.sweep.start(this.connections, direction);
  }

  // --- data path ----------------------------------------------------------------------------

  /** A plain TCP listener's connection: no TCP_NODELAY yet (its link sets it when needed). */
  private readonly accept = (socket: Socket): void => {
    this.acceptSocket(socket, true);
  };

  private acceptSocket(socket: Socket, lazyNoDelay: boolean): void {
    this.counters.connectionsTotal++;
    const connection = new ProxyConnection(socket, this, { lazyNoDelay });
    this.connections.add(connection);
    if (this.connectToxics === 0) {
      connection.open(0);
      return;
    }
    let delay = 0;
    for (const toxic of this.toxics) {
      if (toxic.definition.phase !== 'connect') continue;
      if (toxic.toxicity < 1 && !(toxic.toxicity > 0 && this.random() < toxic.toxicity)) continue;
      toxic.stats.connections++;
      if (toxic.type === 'refuse') {
        connection.reset();
        return;
      }
      if (toxic.type === 'blackhole') {
        connection.blackhole(toxic);
        return;
      }
      delay += toxic.attributes['delay'] as number;
    }
    // Each delay is bounded when set; stacked ones are capped at what one timer can hold.
    connection.open(Math.min(delay, MAX_TIMER_MS));
  }

  /** Connection-open toxics set now: with none, an accept skips the toxic list altogether. */
  private get connectToxics(): number {
    let n = 0;
    for (const t of this.upstreamToxics) if (t.definition.phase === 'connect') n++;
    for (const t of this.downstreamToxics) if (t.definition.phase === 'connect') n++;
    return n;
  }

  connectionClosed(connection: ProxyConnection): void {
    this.connections.delete(connection);
  }

  /** Counts an HTTP request (HTTP mode). */
  countRequest(): void {
    this.counters.requests++;
  }

  /** Counts an accepted connection (HTTP mode keeps its own sockets). */
  countConnection(): void {
    this.counters.connectionsTotal++;
  }

  get stats(): ProxyStats {
    return {
      connections_total: this.counters.connectionsTotal,
      connections_active:
        this.server instanceof HttpModeServer ? this.server.openConnections : this.connections.size,
      bytes_upstream: this.upstreamCounters.received,
      bytes_downstream: this.downstreamCounters.received,
      requests: this.counters.requests,
    };
  }

  toJSON(): ProxyJson {
    const json: ProxyJson = {
      name: this.name,
      listen: this.listen,
      upstream: this.upstreamAddress,
      enabled: this.enabledState,
      toxics: this.toxics.map((t) => t.toJSON()),
      mode: this.mode,
      stats: this.stats,
    };
    if (this.disableLease) json.disabled_until = this.disableLease.until.toISOString();
    return json;
  }

  /** Releases every timer; used when the proxy is deleted. */
  async dispose(): Promise<void> {
    this.sweep.stop();
    for (const timer of this.leases.values()) clearTimeout(timer);
    this.leases.clear();
    await this.stop();
  }
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'bind: address already in use',
  EADDRNOTAVAIL: 'bind: cannot assign requested address',
  EACCES: 'bind: permission denied',
  ENOTFOUND: 'no such host',
};

function listenOn(server: Server | HttpModeServer, target: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const reason = BIND_ERRORS[err.code ?? ''] ?? err.message;
      reject(
        new ListenError(`listen tcp ${formatHostPort(target.host, target.port)}: ${reason}`, {
          cause: err,
          hint:
            err.code === 'EADDRINUSE' ? 'choose another port, or 0 for any free port' : undefined,
        }),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: target.host, port: target.port });
  });
}
