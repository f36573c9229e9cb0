/**
 * The HTTP control surface of `faultline dns serve`: set and remove DNS faults from outside
 * (a test, a CI step, curl) while the resolver runs. Deliberately small, JSON only:
 *
 * | method and path       | does                                                            |
 * | --------------------- | --------------------------------------------------------------- |
 * | `GET /rules`          | the active rules, with the queries each acted on               |
 * | `POST /rules`         | adds one: `{id?, type: error|delay, rcode?, delay_ms?, patterns?, expires_in}` → 201 |
 * | `DELETE /rules/:id`   | removes one (204; 404 when it is already gone)                  |
 * | `DELETE /rules`       | removes every rule (204)                                        |
 * | `GET /stats`          | query counters                                                  |
 *
 * `expires_in` (seconds) is required: the resolver removes the rule at that deadline by itself,
 * so a controller that dies cannot leave a DNS failure behind.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError, isFaultlineError, NotFoundError } from '../../errors.js';
import type { DnsErrorCode, FaultResolver } from './resolver.js';

export interface DnsControlServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the API for `resolver` on host:port (port 0: a free one). */
export async function startDnsControlServer(resolver: FaultResolver, host: string, port: number): Promise<DnsControlServer> {
  const server: Server = createServer((req, res) => {
    handle(resolver, req)
      .then((reply) => send(res, reply.status, reply.body))
      .catch((err: unknown) => {
        if (isFaultlineError(err)) send(res, err.status, { error: err.message, code: err.code, status: err.status, ...(err.hint ? { hint: err.hint } : {}) });
        else send(res, 500, { error: err instanceof Error ? err.message : String(err), code: 'E_INTERNAL', status: 500 });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(resolver: FaultResolver, req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
  const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
  const one = /^\/rules\/([^/]+)$/.exec(path);
  if (req.method === 'GET' && path === '/rules') return { status: 200, body: resolver.rules };
  if (req.method === 'GET' && path === '/stats') return { status: 200, body: { listen: resolver.listen, upstream: resolver.upstream ?? null, ...resolver.stats } };
  if (req.method === 'DELETE' && path === '/rules') {
    resolver.clearRules();
    return { status: 204 };
  }
  if (one && req.method === 'GET') {
    const rule = resolver.rule(decodeURIComponent(one[1]!));
    if (!rule) throw new NotFoundError(`no rule "${decodeURIComponent(one[1]!)}"`);
    return { status: 200, body: rule };
  }
  if (one && req.method === 'DELETE') {
    if (!resolver.removeRule(decodeURIComponent(one[1]!))) throw new NotFoundError(`no rule "${decodeURIComponent(one[1]!)}"`, { hint: 'it may have expired already' });
    return { status: 204 };
  }
  if (req.method === 'POST' && path === '/rules') {
    const body = await readJson(req);
    const type = body['type'];
    if (type !== 'error' && type !== 'delay') throw new BadRequestError('type must be "error" or "delay"');
    const patterns = body['patterns'];
    if (patterns !== undefined && !(Array.isArray(patterns) && patterns.every((p) => typeof p === 'string' && p.length > 0))) throw new BadRequestError('patterns must be a list of non-empty strings');
    const expiresIn = body['expires_in'];
    if (typeof expiresIn !== 'number') throw new BadRequestError('expires_in (seconds) is required', { hint: 'every DNS fault has a deadline, e.g. "expires_in": 60' });
    const rule = resolver.addRule({
      id: typeof body['id'] === 'string' && body['id'] ? body['id'] : randomUUID(),
      kind: type,
      rcode: body['rcode'] as DnsErrorCode | undefined,
      delayMs: body['delay_ms'] as number | undefined,
      patterns: patterns as string[] | undefined,
      expiresIn,
    });
    return { status: 201, body: rule };
  }
  throw new NotFoundError(`no route ${req.method} ${path}`, { hint: 'GET /rules, POST /rules, DELETE /rules/:id, DELETE /rules, GET /stats' });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new BadRequestError('request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new BadRequestError('expected a JSON object');
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
