/**
 * HTTP mode: a proxy that understands HTTP/1.1 and injects faults per request.
 *
 * ```
 *   client ══keep-alive══▶ HttpModeServer ──match toxics──▶ delay? ──▶ abort? ──▶ respond
 *                                                                  └─▶ forward ══keep-alive agent══▶ upstream
 * ```
 *
 * Requests are parsed by Node's own HTTP server, so keep-alive, pipelining and chunked bodies
 * are handled by a parser nobody here wrote. Each request draws each matching toxic's
 * toxicity on its own (a per-request percentage, as Istio's fault filter). An aborted request
 * is answered by the proxy and never reaches the upstream; the client's connection stays
 * usable. Hop-by-hop headers are not forwarded.
 */
import {
  Agent,
  request as httpRequest,
  Server,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { MAX_TIMER_MS } from '../../shared/timer-bounds.js';
import {
  matchesRequest,
  type HttpAbortAttributes,
  type HttpDelayAttributes,
} from './toxics/http.js';
import type { DirectionCounters } from './link.js';
import type { ToxicEntry } from './toxic-entry.js';

/** What the HTTP-mode server needs from its proxy. */
export interface HttpModeHost {
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  readonly toxics: ToxicEntry[];
  readonly upstreamCounters: DirectionCounters;
  readonly downstreamCounters: DirectionCounters;
  random(): number;
  countRequest(): void;
  countConnection(): void;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

export class HttpModeServer extends Server {
  private readonly host: HttpModeHost;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly sockets = new Set<Socket>();

  constructor(host: HttpModeHost) {
    super({ keepAlive: true, noDelay: true });
    this.host = host;
    this.keepAliveTimeout = 60_000;
    this.on('connection', (socket: Socket) => {
      host.countConnection();
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    this.on('close', () => this.agent.destroy());
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  override closeAllConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.host.countRequest();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    let delay = 0;
    let abort: ToxicEntry | undefined;
    for (const toxic of this.host.toxics) {
      if (toxic.definition.phase !== 'request') continue;
      const attrs = toxic.attributes as unknown as HttpDelayAttributes & HttpAbortAttributes;
      if (!matchesRequest(attrs, method, url, req.headers)) continue;
      if (toxic.toxicity < 1 && !(toxic.toxicity > 0 && this.host.random() < toxic.toxicity))
        continue;
      toxic.stats.requests++;
      if (toxic.stats.requests === 1) toxic.stats.connections++;
      if (toxic.type === 'http_delay') delay += attrs.delay;
      else if (toxic.type === 'http_abort' && !abort) abort = toxic;
    }
    const act = (): void => {
      if (req.destroyed || res.destroyed) return;
      if (abort) this.abort(req, res, abort);
      else this.forward(req, res);
    };
    if (delay > 0) {
      // Each delay is bounded when set; stacked ones are capped at what one timer can hold.
      const timer = setTimeout(act, Math.min(delay, MAX_TIMER_MS));
      res.once('close', () => clearTimeout(timer));
    } else {
      act();
    }
  }

  private abort(req: IncomingMessage, res: ServerResponse, toxic: ToxicEntry): void {
    const attrs = toxic.attributes as unknown as HttpAbortAttributes;
    const body = Buffer.from(attrs.body);
    toxic.stats.bytes += body.length;
    // Read and discard the request body so the connection stays usable for the next request.
    req.resume();
    res.writeHead(attrs.status, {
      'content-type': attrs.content_type,
      'content-length': body.length,
      'x-faultline-fault': toxic.name,
    });
    res.end(body);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const upstream = httpRequest({
      host: this.host.upstreamHost,
      port: this.host.upstreamPort,
      method: req.method,
      path: req.url,
      headers,
      agent: this.agent,
    });
    upstream.on('response', (upstreamRes) => {
      const responseHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
      upstreamRes.on('data', (chunk: Buffer) => {
        this.host.downstreamCounters.received += chunk.length;
      });
      upstreamRes.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = `faultline proxy: upstream ${this.host.upstreamHost}:${this.host.upstreamPort} failed: ${err.code ?? err.message}\n`;
      res.writeHead(502, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      this.host.upstreamCounters.received += chunk.length;
    });
    req.pipe(upstream);
  }
}
