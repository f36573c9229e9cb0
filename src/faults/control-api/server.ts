/**
 * The control API: Toxiproxy's HTTP API over a {@link ProxyCollection}, so Toxiproxy's clients
 * (toxiproxy-node-client, toxiproxy-ruby, the Go client, toxiproxy-cli) work unchanged.
 *
 * ```
 *   request ─▶ guards (browser UA → 403, bearer token → 401, body ≤ 1 MiB → 413)
 *           ─▶ route table (method + path pattern) ─▶ handler ─▶ JSON (201/200/204)
 *                                                     └─ FaultlineError ─▶ {"error","status","code","hint"}
 * ```
 *
 * Every handler only changes configuration and returns: nothing here waits on a proxied socket,
 * so the API answers while thousands of connections stream (Toxiproxy's issue #558 hangs).
 * Unexpected errors answer 500 with a JSON body and the server keeps serving.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError, isFaultlineError, UnauthorizedError, ValidationError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { PopulateError, type ProxyCollection } from '../proxy/proxy-collection.js';
import { createMetricsRegistry } from './metrics.js';

/** Largest request body accepted, in bytes. */
const MAX_BODY = 1024 * 1024;

interface Reply {
  status: number;
  body?: unknown;
  /** Pre-rendered text body with its content type (version string, metrics). */
  text?: { body: string; contentType: string };
}

type Handler = (params: Record<string, string>, body: () => Promise<unknown>) => Promise<Reply> | Reply;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export interface ControlServerOptions {
  collection: ProxyCollection;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 8474; 0 for a free port. */
  port?: number | undefined;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Called for unexpected errors (they are answered with 500 and the server keeps serving). */
  onError?: ((err: unknown) => void) | undefined;
}

export interface ControlServer {
  /** `http://host:port` of the API. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts the API; resolves once it listens. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const routes = buildRoutes(options.collection);
  const server = createServer((req, res) => {
    handle(req, res, routes, options).catch((err: unknown) => {
      options.onError?.(err);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error', status: 500, code: 'E_INTERNAL' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 8474 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Route[], options: ControlServerOptions): Promise<void> {
  res.setHeader('X-Toxiproxy-Request-Id', randomUUID());
  const userAgent = req.headers['user-agent'] ?? '';
  if (userAgent.startsWith('Mozilla/')) {
    // CSRF protection, as Toxiproxy: a web page must not reconfigure faults.
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('User agent not allowed');
    req.resume();
    return;
  }
  try {
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      throw new UnauthorizedError('missing or wrong bearer token', { hint: 'send Authorization: Bearer <token>' });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const matching = routes.filter((r) => r.pattern.test(path));
    if (matching.length === 0) {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      req.resume();
      sendJson(res, 405, { error: `method ${req.method ?? ''} not allowed on ${path}`, status: 405, code: 'E_METHOD' });
      return;
    }
    const match = route.pattern.exec(path)!;
    const params: Record<string, string> = {};
    route.keys.forEach((key, i) => (params[key] = decodeURIComponent(match[i + 1] ?? '')));
    const reply = await route.handler(params, () => readJson(req));
    if (req.readable) req.resume();
    if (reply.text) {
      res.writeHead(reply.status, { 'content-type': reply.text.contentType });
      res.end(reply.text.body);
    } else if (reply.body === undefined) {
      res.writeHead(reply.status);
      res.end();
    } else {
      sendJson(res, reply.status, reply.body);
    }
  } catch (err) {
    if (req.readable) req.resume();
    if (err instanceof PopulateError) {
      const inner = err.cause;
      const status = isFaultlineError(inner) ? inner.status : 500;
      sendJson(res, status, { error: err.message, status, proxies: err.created.map((p) => p.toJSON()) });
      return;
    }
    if (!isFaultlineError(err)) throw err;
    const body: Record<string, unknown> = { error: err.message, status: err.status, code: err.code };
    if (err.hint) body['hint'] = err.hint;
    if (err instanceof ValidationError && err.issues.length > 0) body['issues'] = err.issues;
    sendJson(res, err.status, body);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      throw Object.assign(new BadRequestError(`request body larger than ${MAX_BODY} bytes`), { status: 413 });
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`bad request body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function route(method: string, path: string, handler: Handler): Route {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/\{(\w+)\}/g, (_, key: string) => {
      keys.push(key);
      return '([^/]+)';
    })}$`,
  );
  return { method, pattern, keys, handler };
}

function objectBody(value: unknown): Record<string, unknown> {
  if (value === undefined) throw new BadRequestError('bad request body: unexpected EOF');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('bad request body: expected a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The single route table: Toxiproxy's endpoints, then faultline's additions. */
function buildRoutes(collection: ProxyCollection): Route[] {
  // Built at the first scrape, not at start: prom-client stays out of a proxy that nobody
  // scrapes (heap, and so GC pauses under bulk transfers). The metrics read the collection
  // live at scrape time, so a late registry reports the same values.
  let metrics: ReturnType<typeof createMetricsRegistry> | undefined;
  const proxies = (): Record<string, unknown> =>
    Object.fromEntries(collection.list().map((p) => [p.name, p.toJSON()]));
  return [
    route('GET', '/version', () => ({
      status: 200,
      text: { body: `{"version": "${VERSION}"}\n`, contentType: 'application/json;charset=utf-8' },
    })),
    route('GET', '/proxies', () => ({ status: 200, body: proxies() })),
    route('POST', '/proxies', async (_, body) => {
      const proxy = await collection.create(objectBody(await body()));
      return { status: 201, body: proxy.toJSON() };
    }),
    route('POST', '/populate', async (_, body) => {
      const created = await collection.populate((await body()) ?? []);
      return { status: 201, body: { proxies: created.map((p) => p.toJSON()) } };
    }),
    route('POST', '/reset', async () => {
      await collection.reset();
      return { status: 204 };
    }),
    route('GET', '/proxies/{proxy}', ({ proxy }) => ({ status: 200, body: collection.get(proxy!).toJSON() })),
    ...['POST', 'PATCH'].map((method) =>
      route(method, '/proxies/{proxy}', async ({ proxy }, body) => {
        collection.get(proxy!);
        const updated = await collection.update(proxy!, objectBody(await body()));
        return { status: 200, body: updated.toJSON() };
      }),
    ),
    route('DELETE', '/proxies/{proxy}', async ({ proxy }) => {
      await collection.remove(proxy!);
      return { status: 204 };
    }),
    route('GET', '/proxies/{proxy}/toxics', ({ proxy }) => ({
      status: 200,
      body: collection.get(proxy!).toxics.map((t) => t.toJSON()),
    })),
    route('POST', '/proxies/{proxy}/toxics', async ({ proxy }, body) => {
      const target = collection.get(proxy!);
      const toxic = target.addToxic(objectBody(await body()));
      return { status: 200, body: toxic.toJSON() };
    }),
    route('GET', '/proxies/{proxy}/toxics/{toxic}', ({ proxy, toxic }) => ({
      status: 200,
      body: collection.get(proxy!).getToxic(toxic!).toJSON(),
    })),
    ...['POST', 'PATCH'].map((method) =>
      route(method, '/proxies/{proxy}/toxics/{toxic}', async ({ proxy, toxic }, body) => {
        const target = collection.get(proxy!);
        target.getToxic(toxic!);
        const updated = target.updateToxic(toxic!, objectBody(await body()));
        return { status: 200, body: updated.toJSON() };
      }),
    ),
    route('DELETE', '/proxies/{proxy}/toxics/{toxic}', ({ proxy, toxic }) => {
      collection.get(proxy!).removeToxic(toxic!);
      return { status: 204 };
    }),
    route('GET', '/metrics', async () => {
      metrics ??= createMetricsRegistry(collection);
      return { status: 200, text: { body: await metrics.metrics(), contentType: metrics.contentType } };
    }),
  ];
}

