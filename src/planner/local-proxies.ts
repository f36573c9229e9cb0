/**
 * The fault proxies of a local (docker-compose or laptop) setup: one per edge whose far end has
 * a local address, so a fault can act between exactly one caller and one dependency. The
 * generated docker-compose file serves them from one `faultline proxy serve`, and the local
 * experiments name them as remote-proxy targets: both read this one list.
 */
import type { Architecture } from './architecture-schema.js';

/** First port of the proxies' listeners, one port per proxy in sorted order. */
export const FIRST_PROXY_PORT = 21000;

export interface LocalProxy {
  /** Toxiproxy name: `caller--dependency`. */
  name: string;
  from: string;
  to: string;
  /** Port the proxy listens on inside the proxy container (and on the laptop). */
  port: number;
  /** The dependency's local host:port. */
  upstream: string;
  /** The dependency's port (its compose service listens there). */
  upstreamPort: number;
  /** The environment variable the caller reads the address from. */
  addressEnv: string;
  /** The environment variable the caller reads the connection URL from. */
  urlEnv: string;
  /** The connection URL, with `{host}` and `{port}` for the proxy's. */
  url: string;
}

/** Connection URLs in the form each engine's clients expect, and the variable they read. */
const ENGINE_URLS: Record<string, { env: string; url: string }> = {
  postgresql: { env: 'DATABASE_URL', url: 'postgres://postgres@{host}:{port}/postgres' },
  postgres: { env: 'DATABASE_URL', url: 'postgres://postgres@{host}:{port}/postgres' },
  mysql: { env: 'DATABASE_URL', url: 'mysql://root@{host}:{port}/mysql' },
  mongodb: { env: 'MONGODB_URL', url: 'mongodb://{host}:{port}' },
  redis: { env: 'REDIS_URL', url: 'redis://{host}:{port}' },
  rabbitmq: { env: 'AMQP_URL', url: 'amqp://guest:guest@{host}:{port}' },
  kafka: { env: 'KAFKA_BROKERS', url: '{host}:{port}' },
};

function defaultUrl(architecture: Architecture, to: string): { env: string; url: string } {
  if (architecture.services[to]) return { env: `${envName(to)}_URL`, url: 'http://{host}:{port}' };
  const resource = architecture.dependencies[to];
  const engine = resource?.engine?.toLowerCase();
  const known = engine ? ENGINE_URLS[engine] : undefined;
  if (known) return known;
  return {
    env: `${envName(to)}_URL`,
    url: resource?.kind === 'service' ? 'http://{host}:{port}' : 'tcp://{host}:{port}',
  };
}

/** host:port of a URL or an address, or undefined. */
export function hostPort(text: string | undefined): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const url = /^https?:\/\//.test(text) ? new URL(text) : new URL(`tcp://${text}`);
  const port = url.port
    ? Number(url.port)
    : url.protocol === 'https:'
      ? 443
      : url.protocol === 'http:'
        ? 80
        : undefined;
  return port === undefined ? undefined : { host: url.hostname, port };
}

/** Where a node listens locally: a dependency's address, a service's local URL. */
export function localAddress(
  architecture: Architecture,
  name: string,
): { host: string; port: number } | undefined {
  const service = architecture.services[name];
  if (service) return hostPort(service.local?.url);
  const resource = architecture.dependencies[name];
  return resource && 'address' in resource ? hostPort(resource.address) : undefined;
}

/** `payment-service` → `PAYMENT_SERVICE`. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Every proxy, sorted by caller then dependency (so ports are stable). */
export function localProxies(architecture: Architecture): LocalProxy[] {
  const out: LocalProxy[] = [];
  for (const from of Object.keys(architecture.services).sort()) {
    const edges = [...architecture.services[from]!.dependsOn].sort((a, b) =>
      a.on.localeCompare(b.on),
    );
    const defaults = new Map(edges.map((e) => [e.on, defaultUrl(architecture, e.on)]));
    const shared = (env: string): boolean =>
      [...defaults.values()].filter((d) => d.env === env).length > 1;
    for (const edge of edges) {
      const address = localAddress(architecture, edge.on);
      if (!address) continue;
      const byEngine = defaults.get(edge.on)!;
      out.push({
        name: `${from}--${edge.on}`,
        from,
        to: edge.on,
        port: FIRST_PROXY_PORT + out.length,
        upstream: `${address.host}:${address.port}`,
        upstreamPort: address.port,
        addressEnv: edge.addressEnv ?? `${envName(edge.on)}_ADDR`,
        urlEnv: edge.urlEnv ?? (shared(byEngine.env) ? `${envName(edge.on)}_URL` : byEngine.env),
        url: edge.url ?? byEngine.url,
      });
    }
  }
  return out;
}
