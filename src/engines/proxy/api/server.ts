/**
 * The control API: Toxiproxy's HTTP API over a {@link ProxyCollection}, so Toxiproxy's clients
 * (toxiproxy-node-client, toxiproxy-ruby, the Go client, toxiproxy-cli) work unchanged.
 *
 * Only the route table lives here; the server under it (src/shared/json-api-server.ts) runs the
 * guards before any handler (browser → 403, bearer token → 401, a browser's form body → 403),
 * decodes path params (a malformed %-escape → 400), limits bodies (1 MiB → 413) and renders
 * FaultlineErrors as `{"error","status","code","hint"}`. What stays Toxiproxy's own: the
 * `X-Toxiproxy-Request-Id` header, `404 page not found` for an unknown path, the /version text,
 * /populate's error body listing the proxies it did create.
 *
 * Every handler only changes configuration and returns: nothing here waits on a proxied socket,
 * so the API answers while thousands of connections stream (Toxiproxy's issue #558 hangs).
 * Unexpected errors answer 500 with a JSON body and the server keeps serving.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { BadRequestError, isFaultlineError } from '../../../errors.js';
import {
  errorBody,
  startJsonApiServer,
  type ApiHandler,
  type ApiReply,
  type ApiRoute,
} from '../../../shared/json-api-server.js';
import { VERSION } from '../../../version.js';
import { PopulateError, type ProxyCollection } from '../proxy-collection.js';
import { createMetricsRegistry } from './metrics.js';

export interface ControlServerOptions {
  collection: ProxyCollection;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 8474; 0 for a free port. */
  port?: number | undefined;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Origins whose pages may call the API (default none: every Origin is refused). */
  allowOrigins?: readonly string[] | undefined;
  /** Host names (`name` or `name:port`) accepted besides the listening address. */
  allowHosts?: readonly string[] | undefined;
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

/** Go's `http.NotFound` text, which Toxiproxy answers for an unknown path. */
const NOT_FOUND: ApiReply = {
  status: 404,
  text: { body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' },
};

/** Starts the API; resolves once it listens. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  return startJsonApiServer({
    routes: buildRoutes(options.collection),
    host: options.host,
    port: options.port ?? 8474,
    token: options.token,
    allowOrigins: options.allowOrigins,
    allowHosts: options.allowHosts,
    headers: () => ({ 'X-Toxiproxy-Request-Id': randomUUID() }),
    notFound: () => NOT_FOUND,
    onError: options.onError,
  });
}

function route(method: string, path: string, handler: ApiHandler): ApiRoute {
  return { method, path, handler };
}

function objectBody(value: unknown): Record<string, unknown> {
  if (value === undefined) throw new BadRequestError('bad request body: unexpected EOF');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('bad request body: expected a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The single route table: Toxiproxy's endpoints, then faultline's additions. */
function buildRoutes(collection: ProxyCollection): ApiRoute[] {
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
      const proxy = await collection.createJson(objectBody(await body()));
      return { status: 201, body: proxy.toJSON() };
    }),
    route('POST', '/populate', async (_, body) => {
      try {
        const created = await collection.populate((await body()) ?? []);
        return { status: 201, body: { proxies: created.map((p) => p.toJSON()) } };
      } catch (err) {
        if (!(err instanceof PopulateError)) throw err;
        // Toxiproxy's body: the error, and the proxies created before it.
        // faultline's code (and hint, issues) beside it, as on every other error.
        const inner = err.cause;
        const status = isFaultlineError(inner) ? inner.status : 500;
        const proxies = err.created.map((p) => p.toJSON());
        const extra = isFaultlineError(inner) ? errorBody(inner) : { code: 'E_INTERNAL' };
        return { status, body: { ...extra, error: err.message, status, proxies } };
      }
    }),
    route('POST', '/reset', async () => {
      await collection.reset();
      return { status: 204 };
    }),
    route('GET', '/proxies/{proxy}', ({ proxy }) => ({
      status: 200,
      body: collection.get(proxy!).toJSON(),
    })),
    ...['POST', 'PATCH'].map((method) =>
      route(method, '/proxies/{proxy}', async ({ proxy }, body) => {
        collection.get(proxy!);
        const updated = await collection.updateJson(proxy!, objectBody(await body()));
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
      const toxic = target.addToxicJson(objectBody(await body()));
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
        const updated = target.updateToxicJson(toxic!, objectBody(await body()));
        return { status: 200, body: updated.toJSON() };
      }),
    ),
    route('DELETE', '/proxies/{proxy}/toxics/{toxic}', ({ proxy, toxic }) => {
      collection.get(proxy!).removeToxic(toxic!);
      return { status: 204 };
    }),
    route('GET', '/metrics', async () => {
      metrics ??= createMetricsRegistry(collection);
      return {
        status: 200,
        text: { body: await metrics.metrics(), contentType: metrics.contentType },
      };
    }),
  ];
}
