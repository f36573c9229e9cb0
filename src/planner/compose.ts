/**
 * A docker-compose file that puts a faultline fault proxy between every service and each of
 * its dependencies, for running the local experiments on a laptop or in CI:
 *
 * ```
 *   payment-service ──POSTGRESQL_ADDR=faultline-proxy:21007──▶ faultline-proxy ──▶ postgresql:5432
 *                                                                  ▲
 *   experiments (remote-proxy targets) ──127.0.0.1:8474 (API)──────┘
 * ```
 *
 * One `faultline proxy serve` serves every proxy (its `--config` is the generated proxies.json,
 * Toxiproxy's populate format); each caller gets the proxy's address in an environment variable
 * (`NAME_ADDR`, or the dependency's `addressEnv`). Only the control API and the services' own
 * ports are published, on 127.0.0.1: nothing is exposed beyond the machine.
 */
import { stringify } from 'yaml';
import { VERSION } from '../version.js';
import type { Architecture } from './architecture-schema.js';
import { envName, hostPort, localAddress, localProxies } from './local-proxies.js';

/**
 * Images of well-known engines, with the healthcheck their image can run; others come from an
 * environment variable and are waited for as started (their image's tools are unknown).
 */
const ENGINE_IMAGES: Record<
  string,
  { image: string; environment?: Record<string, string>; test: string[] }
> = {
  postgresql: {
    image: 'postgres:16-alpine',
    environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
    test: ['CMD', 'pg_isready', '-U', 'postgres'],
  },
  postgres: {
    image: 'postgres:16-alpine',
    environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
    test: ['CMD', 'pg_isready', '-U', 'postgres'],
  },
  redis: { image: 'redis:7-alpine', test: ['CMD', 'redis-cli', 'ping'] },
  rabbitmq: {
    image: 'rabbitmq:3-management-alpine',
    test: ['CMD', 'rabbitmq-diagnostics', '-q', 'ping'],
  },
  mysql: {
    image: 'mysql:8',
    environment: { MYSQL_ALLOW_EMPTY_PASSWORD: 'yes' },
    test: ['CMD', 'mysqladmin', 'ping', '-h', '127.0.0.1'],
  },
  mongodb: {
    image: 'mongo:7',
    test: ['CMD', 'mongosh', '--quiet', '--eval', 'db.runCommand("ping").ok'],
  },
  kafka: {
    image: 'bitnami/kafka:3.7',
    test: ['CMD-SHELL', 'kafka-topics.sh --bootstrap-server 127.0.0.1:9092 --list'],
  },
};

/** Where the proxy's Dockerfile is, from the compose file's folder: the installed package. */
export const DEFAULT_BUILD_CONTEXT = '../node_modules/faultline';

/** The image name the proxy is built as, and pulled as once it is published. */
export const PROXY_IMAGE = 'ghcr.io/faultline/faultline-proxy';

const HEALTH = { interval: '5s', timeout: '3s', retries: 20, start_period: '10s' };

/** The proxy server's service name in the compose file. */
export const PROXY_SERVICE = 'faultline-proxy';

/** Toxiproxy populate config for the proxy server: listens on every proxy port, upstream by service name. */
export function proxiesConfig(
  architecture: Architecture,
): Array<{ name: string; listen: string; upstream: string; enabled: boolean }> {
  return localProxies(architecture).map((p) => ({
    name: p.name,
    listen: `0.0.0.0:${p.port}`,
    upstream: `${p.to}:${p.upstreamPort}`,
    enabled: true,
  }));
}

/** The compose document (an object; {@link composeText} writes it). */
export function composeDocument(
  architecture: Architecture,
  buildContext = DEFAULT_BUILD_CONTEXT,
): Record<string, unknown> {
  const proxies = localProxies(architecture);
  const services: Record<string, Record<string, unknown>> = {};
  services[PROXY_SERVICE] = {
    // Built from the Dockerfile faultline ships (in the npm package and the repository); set
    // FAULTLINE_PROXY_IMAGE to a published or mirrored image and `docker compose pull` instead.
    image: `\${FAULTLINE_PROXY_IMAGE:-${PROXY_IMAGE}:${VERSION}}`,
    build: { context: `\${FAULTLINE_BUILD_CONTEXT:-${buildContext}}`, dockerfile: 'Dockerfile' },
    command: [
      'proxy',
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      '8474',
      '--allow-remote-listen',
      '--config',
      '/faultline/proxies.json',
    ],
    volumes: ['./proxies.json:/faultline/proxies.json:ro'],
    ports: ['127.0.0.1:8474:8474'],
    environment: { FAULTLINE_PROXY_TOKEN: '${FAULTLINE_PROXY_TOKEN:-}' },
    healthcheck: {
      // /version answers without the token; node is the image's own runtime.
      test: [
        'CMD',
        'node',
        '-e',
        "fetch('http://127.0.0.1:8474/version').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
      ],
      ...HEALTH,
    },
  };
  const healthy = new Set<string>([PROXY_SERVICE]);
  const datastores: Record<string, Record<string, unknown>> = {};
  for (const name of Object.keys(architecture.dependencies).sort()) {
    const resource = architecture.dependencies[name]!;
    if (!localAddress(architecture, name)) continue;
    const known = resource.engine ? ENGINE_IMAGES[resource.engine.toLowerCase()] : undefined;
    if (known) healthy.add(name);
    datastores[name] = known
      ? {
          image: known.image,
          ...(known.environment ? { environment: known.environment } : {}),
          healthcheck: { test: known.test, ...HEALTH },
        }
      : { image: `\${${envName(name)}_IMAGE:?set ${envName(name)}_IMAGE to the image of ${name}}` };
  }
  for (const name of Object.keys(architecture.services))
    if (hostPort(architecture.services[name]!.local?.url)) healthy.add(name);
  for (const name of Object.keys(architecture.services).sort()) {
    const service = architecture.services[name]!;
    const mine = proxies.filter((p) => p.from === name);
    const address = hostPort(service.local?.url);
    const environment: Record<string, string> = {};
    for (const p of mine) {
      environment[p.urlEnv] = p.url
        .replace('{host}', PROXY_SERVICE)
        .replace('{port}', String(p.port));
      environment[p.addressEnv] = `${PROXY_SERVICE}:${p.port}`;
    }
    // Started once the proxy and what it waits for synchronously are up (async edges may
    // loop; a sync cycle is refused by the reader).
    const waitsFor = [
      PROXY_SERVICE,
      ...service.dependsOn
        .filter((d) => d.mode === 'sync' || architecture.dependencies[d.on] !== undefined)
        .map((d) => d.on)
        .filter((d) => datastores[d] !== undefined || architecture.services[d] !== undefined)
        .sort(),
    ];
    const entry: Record<string, unknown> = {
      image: service.local?.image ?? `\${${envName(name)}_IMAGE:-${name}:latest}`,
      environment,
      depends_on: Object.fromEntries(
        [...new Set(waitsFor)].map((d) => [
          d,
          { condition: healthy.has(d) ? 'service_healthy' : 'service_started' },
        ]),
      ),
    };
    if (address) {
      entry['ports'] = [`127.0.0.1:${address.port}:${address.port}`];
      // The image's own wget or curl on its health path; override in a compose override file.
      const url = `http://127.0.0.1:${address.port}${service.local?.healthPath ?? '/health'}`;
      entry['healthcheck'] = {
        test: ['CMD-SHELL', `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`],
        ...HEALTH,
      };
    }
    services[name] = entry;
  }
  Object.assign(services, datastores);
  return {
    name: `${architecture.name}-chaos`.toLowerCase().replace(/[^a-z0-9_-]/g, '-'),
    services,
  };
}

/**
 * The compose file's text, with a header that says how to use it. `dir` is where it is
 * written, relative to the repository root, so the proxy's build context (the installed
 * package) is found from there.
 */
export function composeText(architecture: Architecture, dir = '.'): string {
  const depth = dir === '.' ? 0 : dir.split('/').filter((p) => p && p !== '.').length;
  const context = `${depth === 0 ? '.' : Array(depth).fill('..').join('/')}/node_modules/faultline`;
  const header = [
    `# Generated by faultline plan from the "${architecture.name}" architecture.`,
    '# Every service reaches each dependency through the fault proxy (faultline-proxy); the',
    '# local experiments act on those proxies through its API on 127.0.0.1:8474. The proxy',
    "# image is built from faultline's Dockerfile (FAULTLINE_BUILD_CONTEXT, default the installed",
    `# package), or pulled: FAULTLINE_PROXY_IMAGE=${PROXY_IMAGE}:${VERSION}.`,
    '#   docker compose -f docker-compose.chaos.yaml up -d --build --wait',
    '#   npx faultline run experiments/01-….local.yaml',
    '',
  ].join('\n');
  return header + stringify(composeDocument(architecture, context), { lineWidth: 0 });
}
