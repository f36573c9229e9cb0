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
 *
 * A DNS failure is as much a fault as a toxic, so this API has the proxy API's guards (they are
 * the same server): a browser's request is refused (403) before any rule changes, and with a
 * token (`faultline dns serve --token`) every request needs `Authorization: Bearer <token>`.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, NotFoundError } from '../../errors.js';
import { startJsonApiServer, type ApiRoute } from '../../shared/json-api-server.js';
import type { DnsErrorCode, FaultResolver } from './resolver.js';

export interface DnsControlServerOptions {
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** 0 (the default): a free port. */
  port?: number | undefined;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Origins whose pages may call the API (default none: every Origin is refused). */
  allowOrigins?: readonly string[] | undefined;
  /** Host names (`name` or `name:port`) accepted besides the listening address. */
  allowHosts?: readonly string[] | undefined;
  /** Called for unexpected errors (answered 500; the server keeps serving). */
  onError?: ((err: unknown) => void) | undefined;
}

export interface DnsControlServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Largest rule body accepted, in bytes (a rule is a few hundred). */
const MAX_BODY = 64 * 1024;

/**
 * Starts the API for `resolver`. It runs on the shared guarded server
 * (src/shared/json-api-server.ts): browser requests are refused before any rule changes.
 */
export async function startDnsControlServer(
  resolver: FaultResolver,
  options: DnsControlServerOptions = {},
): Promise<DnsControlServer> {
  const server = await startJsonApiServer({
    routes: buildRoutes(resolver),
    host: options.host,
    port: options.port ?? 0,
    token: options.token,
    allowOrigins: options.allowOrigins,
    allowHosts: options.allowHosts,
    maxBodyBytes: MAX_BODY,
    onError: options.onError,
  });
  return { url: server.url, close: () => server.close() };
}

function buildRoutes(resolver: FaultResolver): ApiRoute[] {
  const missing = (id: string, hint?: string): NotFoundError =>
    new NotFoundError(`no rule "${id}"`, hint === undefined ? undefined : { hint });
  return [
    { method: 'GET', path: '/rules', handler: () => ({ status: 200, body: resolver.rules }) },
    {
      method: 'POST',
      path: '/rules',
      handler: async (_, body) => ({ status: 201, body: addRule(resolver, await body()) }),
    },
    {
      method: 'DELETE',
      path: '/rules',
      handler: () => {
        resolver.clearRules();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/rules/{id}',
      handler: ({ id }) => {
        const rule = resolver.rule(id!);
        if (!rule) throw missing(id!);
        return { status: 200, body: rule };
      },
    },
    {
      method: 'DELETE',
      path: '/rules/{id}',
      handler: ({ id }) => {
        if (!resolver.removeRule(id!)) throw missing(id!, 'it may have expired already');
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/stats',
      handler: () => ({
        status: 200,
        body: { listen: resolver.listen, upstream: resolver.upstream ?? null, ...resolver.stats },
      }),
    },
  ];
}

function addRule(resolver: FaultResolver, value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError('expected a JSON object');
  }
  const body = value as Record<string, unknown>;
  const type = body['type'];
  if (type !== 'error' && type !== 'delay') {
    throw new BadRequestError('type must be "error" or "delay"');
  }
  const patterns = body['patterns'];
  const validPatterns =
    patterns === undefined ||
    (Array.isArray(patterns) && patterns.every((p) => typeof p === 'string' && p.length > 0));
  if (!validPatterns) throw new BadRequestError('patterns must be a list of non-empty strings');
  const expiresIn = body['expires_in'];
  if (typeof expiresIn !== 'number') {
    throw new BadRequestError('expires_in (seconds) is required', {
      hint: 'every DNS fault has a deadline, e.g. "expires_in": 60',
    });
  }
  return resolver.addRule({
    id: typeof body['id'] === 'string' && body['id'] ? body['id'] : randomUUID(),
    kind: type,
    rcode: body['rcode'] as DnsErrorCode | undefined,
    delayMs: body['delay_ms'] as number | undefined,
    patterns: patterns as string[] | undefined,
    expiresIn,
  });
}
