/**
 * The service and helpers behind the "verdicts that never lie" tests (test/serial/verdicts.test.ts
 * for the verdicts that rest on whether the load moved, test/integration/verdicts-counted.test.ts
 * for the ones that rest on counts, toxics, exits and stated effects): a small HTTP service on
 * real PostgreSQL in a child process, a Toxiproxy-compatible server without faultline's stats,
 * the load, and a runner that reports each run's verdict line in the test's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import type { AddressInfo } from 'node:net';
import { startControlServer } from '../../src/engines/proxy/api/server.js';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import type { Journal } from '../../src/journal/journal.js';
import { runExperimentDoc } from './run-experiment.js';
import { watchOutput } from './wait-for.js';

export const PG = { host: '127.0.0.1', port: 5432 };
export const pgUrl = (port: number): string => `postgres://postgres@127.0.0.1:${port}/test`;
export const SERVICE = new URL('../helpers/pg-http-service.ts', import.meta.url).pathname;

/** Each started service's pid by its base URL (runs at the same time start theirs in any order). */
export const pids = new Map<string, number>();

/** Starts the service on DATABASE_URL and resolves with its base URL. */
export async function startPayments(
  databaseUrl: string,
  children: ChildProcess[],
): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVICE], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const [, port] = await watchOutput(child.stdout, child.stderr).waitFor(
    /listening (\d+)/,
    'the payment service to listen',
    { child },
  );
  const url = `http://127.0.0.1:${port}`;
  pids.set(url, child.pid!);
  return url;
}

/**
 * A Toxiproxy-compatible server without faultline's extensions: a relay to a faultline control
 * server that drops every `stats` field from its answers, as Toxiproxy 2.12 has none.
 */
export async function withoutStats(upstream: string): Promise<Server> {
  const target = new URL(upstream);
  const relay = createServer((req, res) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          let body = Buffer.concat(chunks).toString('utf8');
          try {
            body = JSON.stringify(JSON.parse(body), (key, value: unknown) =>
              key === 'stats' ? undefined : value,
            );
          } catch {
            // not JSON: as it is
          }
          const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(out);
  });
  relay.listen(0, '127.0.0.1');
  await new Promise((resolve) => relay.once('listening', resolve));
  return relay;
}

export const load = (url: string): Record<string, unknown> => ({
  url: `${url}/pay`,
  rate: '50/s',
  baseline: '1500ms',
  recovery: '2s',
  timeout: '3s',
});

/**
 * A directory and the started services for a suite (removed and killed after it), and `run`:
 * runs a document and reports its verdict line (as `faultline run` prints it) in the test's output.
 */
export function verdictSuite(): {
  children: ChildProcess[];
  run: (t: TestContext, doc: Record<string, unknown>) => Promise<Journal>;
} {
  let dir: string;
  const children: ChildProcess[] = [];
  let runs = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-verdicts-'));
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const run = async (t: TestContext, doc: Record<string, unknown>): Promise<Journal> => {
    const file = `verdict-${++runs}.yaml`;
    const journal = await runExperimentDoc(
      { title: file, safety: { maxDuration: '2m' }, ...doc },
      { file, journalPath: join(dir, `${runs}.json`) },
    );
    const f = journal.faultline;
    t.diagnostic(`outcome: ${f.outcome} (exit ${f.exit_code}) — ${f.reason ?? ''}`);
    return journal;
  };
  return { children, run };
}

/** A `proxy` target: faultline's own proxy listening on `listen`, in front of PostgreSQL. */
export const pgProxyTarget = (listen: number): Record<string, unknown> => ({
  type: 'proxy',
  listen: `127.0.0.1:${listen}`,
  upstream: `${PG.host}:${PG.port}`,
});

/**
 * A proxy `pg` in front of PostgreSQL behind a faultline control server (`api`), and `stripped`:
 * the same server as a Toxiproxy-compatible one without stats ({@link withoutStats}). `close`
 * stops all three.
 */
export async function startPgProxyServer(): Promise<{
  proxy: Awaited<ReturnType<ProxyCollection['create']>>;
  api: string;
  stripped: string;
  close: () => Promise<void>;
}> {
  const collection = new ProxyCollection();
  const api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
  const relay = await withoutStats(api.url);
  const proxy = await collection.create({ name: 'pg', upstream: `${PG.host}:${PG.port}` });
  return {
    proxy,
    api: api.url,
    stripped: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    close: async () => {
      relay.close();
      await api.close();
      await collection.close();
    },
  };
}
