/**
 * The one guarded JSON-over-HTTP server behind faultline's control APIs (the proxy's
 * Toxiproxy-compatible API, the DNS resolver's rules API). Each API is only a route table; the
 * guards, the parsing and the error bodies live here once, so a second API cannot lose them on
 * the way (as the DNS API once lost the browser refusal and the token).
 *
 * ```
 *   request ─▶ browser refusal (403: Host, Origin, Sec-Fetch-Site, Mozilla/ User-Agent)
 *           ─▶ CORS preflight of an allowed Origin (204) ─▶ bearer token (401)
 *           ─▶ content type (403) ─▶ route table (404 unknown path, 405 wrong method)
 *           ─▶ path params %-decoded (a malformed escape: 400, never 500)
 *           ─▶ body read when present (≤ maxBodyBytes: 413 past it; 400 when not JSON)
 *           ─▶ handler
 *           ─▶ {status, body} as JSON, or a pre-rendered text body
 *              FaultlineError ─▶ {"error","status","code","hint"?,"issues"?} with its status
 *              anything else  ─▶ 500 {"error":"internal error","code":"E_INTERNAL"}, onError
 * ```
 *
 * The guards and why each is as strict as it is, and no stricter (Node's fetch sends
 * `Sec-Fetch-Mode: cors`; the Toxiproxy Go client sent `text/plain`; `curl -d` sends a form
 * type), are written down in `request-guards.ts`. The body is read before the handler whether
 * or not the route uses one, so a body that is not JSON is refused on every route (a
 * `POST /reset` with a form body included). A browser User-Agent is answered with
 * Toxiproxy's own `403 User agent not allowed`; every other refusal is a JSON E_FORBIDDEN.
 *
 * Binds 127.0.0.1 by default; port 0 picks a free port. `close()` also ends keep-alive
 * connections, so a stopping server does not wait for an idle client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError, ExitCode, FaultlineError, isFaultlineError } from '../errors.js';
import {
  hostMatcher,
  isAllowedOrigin,
  refuseBrowser,
  refuseContentType,
  refuseToken,
  USER_AGENT_REFUSAL,
  type BrowserPolicy,
} from './request-guards.js';

/** Default largest request body, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** What a handler answers: a JSON body (none: an empty answer), or a pre-rendered text. */
export interface ApiReply {
  status: number;
  body?: unknown;
  /** Pre-rendered body with its content type (a version string, Prometheus text). */
  text?: { body: string; contentType: string } | undefined;
}

/** A route's handler: decoded path params, and the request's JSON body read on demand. */
export type ApiHandler = (
  params: Record<string, string>,
  body: () => Promise<unknown>,
  req: IncomingMessage,
) => Promise<ApiReply> | ApiReply;

/** One route: a method and a path pattern whose `{name}` segments become params. */
export interface ApiRoute {
  method: string;
  path: string;
  handler: ApiHandler;
}

export interface JsonApiServerOptions {
  routes: readonly ApiRoute[];
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** 0 (the default) for a free port. */
  port?: number | undefined;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /**
   * Origins (`scheme://host[:port]`) whose pages may call the API; default none. Their
   * requests pass the browser refusal and get CORS headers (preflights answered 204).
   */
  allowOrigins?: readonly string[] | undefined;
  /**
   * Host header values accepted besides the listening address: `name` (any port) or
   * `name:port` — a name clients reach the server by. Default none.
   */
  allowHosts?: readonly string[] | undefined;
  /** Largest JSON body accepted (default 1 MiB); past it: 413. */
  maxBodyBytes?: number | undefined;
  /** Headers set on every answer, refusals included (e.g. a request id). */
  headers?: (() => Record<string, string>) | undefined;
  /** The answer for an unknown path (default: a JSON E_NOT_FOUND listing the routes). */
  notFound?: ((method: string, path: string) => ApiReply) | undefined;
  /** Called with unexpected errors; they are answered 500 and the server keeps serving. */
  onError?: ((err: unknown) => void) | undefined;
}

export interface JsonApiServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

interface CompiledRoute extends ApiRoute {
  pattern: RegExp;
  keys: string[];
}

/** Starts the server; resolves once it listens. */
export async function startJsonApiServer(options: JsonApiServerOptions): Promise<JsonApiServer> {
  if (options.token === '') throw new BadRequestError('the API token must not be empty');
  const routes = options.routes.map(compile);
  // Until the server listens no request arrives; the Host rule needs the bound port.
  const policy: BrowserPolicy = { allowOrigins: options.allowOrigins, hostAllowed: () => false };
  const server = createServer((req, res) => {
    handle(req, res, routes, options, policy).catch((err: unknown) => {
      options.onError?.(err);
      drain(req);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'internal error', status: 500, code: 'E_INTERNAL' });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  policy.hostAllowed = hostMatcher(address.address, options.allowHosts);
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

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: readonly CompiledRoute[],
  options: JsonApiServerOptions,
  policy: BrowserPolicy,
): Promise<void> {
  for (const [name, value] of Object.entries(options.headers?.() ?? {})) res.setHeader(name, value);
  const browser = refuseBrowser(req.headers, policy);
  if (browser?.kind === 'user-agent') {
    drain(req);
    res.writeHead(403, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
    });
    res.end(USER_AGENT_REFUSAL);
    return;
  }
  const allowedOrigin = browser === undefined && isAllowedOrigin(req.headers, policy);
  if (allowedOrigin) {
    res.setHeader('access-control-allow-origin', req.headers.origin!);
    res.setHeader('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      drain(req);
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, PATCH, DELETE',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
  }
  try {
    const refusal =
      browser?.error ??
      refuseToken(req.headers, options.token) ??
      (allowedOrigin ? undefined : refuseContentType(req.headers));
    if (refusal) throw refusal;
    const method = req.method ?? 'GET';
    const path = pathOf(req.url ?? '/');
    const matching = routes.filter((r) => r.pattern.test(path));
    if (matching.length === 0) {
      drain(req);
      send(res, (options.notFound ?? defaultNotFound(routes))(method, path));
      return;
    }
    const route = matching.find((r) => r.method === method);
    if (!route) {
      drain(req);
      const allowed = [...new Set(matching.map((r) => r.method))].join(', ');
      res.setHeader('allow', allowed);
      const error = `method ${method} not allowed on ${path}`;
      sendJson(res, 405, { error, status: 405, code: 'E_METHOD', hint: `use ${allowed}` });
      return;
    }
    const match = route.pattern.exec(path)!;
    const params: Record<string, string> = {};
    route.keys.forEach(
      (key, i) => (params[key] = decodeParam(match[i + 1] ?? '', key, route.path)),
    );
    const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    // Read before the handler, used or not: a body that is present must be JSON on every route.
    const body = await readJson(req, maxBody);
    const reply = await route.handler(params, () => Promise.resolve(body), req);
    drain(req);
    send(res, reply);
  } catch (err) {
    if (!isFaultlineError(err)) throw err;
    drain(req);
    sendJson(res, err.status, errorBody(err));
  }
}

/** The JSON body of a typed error: Toxiproxy's `error` and `status`, faultline's `code`. */
export function errorBody(err: FaultlineError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: err.message, status: err.status, code: err.code };
  if (err.hint) body['hint'] = err.hint;
  const issues = (err as { issues?: unknown }).issues;
  if (Array.isArray(issues) && issues.length > 0) body['issues'] = issues;
  return body;
}

/** The path of a request target, without query or fragment, without a trailing slash. */
function pathOf(target: string): string {
  let path = target.split(/[?#]/, 1)[0]!;
  if (!path.startsWith('/')) {
    // Absolute form (`GET http://host/path`), as a forward proxy would be sent.
    try {
      path = new URL(target).pathname;
    } catch {
      path = '/';
    }
  }
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

/** decodeURIComponent that answers a malformed escape (`%ZZ`, `%`, `%E0%A4%A`) with a 400. */
function decodeParam(raw: string, key: string, routePath: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // Located: which segment of which route, and where in it the escape breaks.
    const at = firstBadEscape(raw);
    throw new BadRequestError(
      `malformed %-escape in path segment "${raw}" (the {${key}} of ${routePath}), at character ${at + 1}`,
      { hint: 'percent-encode the name (a literal % is %25), e.g. with encodeURIComponent' },
    );
  }
}

/** Index of the first %-escape in `raw` that does not decode (alone or with its sequence). */
function firstBadEscape(raw: string): number {
  let i = raw.indexOf('%');
  while (i !== -1) {
    // The shortest run of 1 to 4 escapes from here that decodes (a UTF-8 sequence), if any.
    const length = [3, 6, 9, 12].find((n) => {
      try {
        decodeURIComponent(raw.slice(i, i + n));
        return true;
      } catch {
        return false;
      }
    });
    if (length === undefined) return i;
    i = raw.indexOf('%', i + length);
  }
  return 0;
}

async function readJson(req: IncomingMessage, maxBody: number): Promise<unknown> {
  const tooLarge = (): FaultlineError =>
    new FaultlineError(
      'E_BAD_REQUEST',
      `request body larger than ${maxBody} bytes`,
      413,
      ExitCode.usage,
      { hint: 'send a smaller body' },
    );
  if (Number(req.headers['content-length'] ?? 0) > maxBody) throw tooLarge();
  // Events, not for-await: leaving a for-await loop destroys the request, and with it the
  // socket the 413 is to be written on. Past the limit the rest of the body flows away unread.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > maxBody) return;
      size += chunk.length;
      if (size > maxBody) reject(tooLarge());
      else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new BadRequestError(`bad request body: ${why}`, { hint: 'send a JSON body' });
  }
}

function defaultNotFound(routes: readonly CompiledRoute[]): (m: string, p: string) => ApiReply {
  const known = routes.map((r) => `${r.method} ${r.path}`).join(', ');
  return (method, path) => ({
    status: 404,
    body: { error: `no route ${method} ${path}`, status: 404, code: 'E_NOT_FOUND', hint: known },
  });
}

/** Leaves an unread body to flow away, so a keep-alive connection serves the next request. */
function drain(req: IncomingMessage): void {
  if (req.readable) req.resume();
}

function send(res: ServerResponse, reply: ApiReply): void {
  if (reply.text) {
    res.writeHead(reply.status, {
      'content-type': reply.text.contentType,
      'content-length': Buffer.byteLength(reply.text.body),
    });
    res.end(reply.text.body);
  } else if (reply.body === undefined) {
    res.writeHead(reply.status);
    res.end();
  } else {
    sendJson(res, reply.status, reply.body);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function compile(route: ApiRoute): CompiledRoute {
  const keys: string[] = [];
  const source = route.path
    .split(/(\{\w+\})/)
    .map((part) => {
      const key = /^\{(\w+)\}$/.exec(part)?.[1];
      if (key === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      keys.push(key);
      return '([^/]+)';
    })
    .join('');
  return { ...route, pattern: new RegExp(`^${source}$`), keys };
}
