// A real Prometheus and a real Alertmanager for stop-condition tests, each on its own port with
// its own temporary directory (configuration, storage), started and stopped by the test; and a
// small HTTP service whose counters Prometheus scrapes, with an error counter that rises on
// demand. Debian packages them as prometheus and prometheus-alertmanager (.ci/run installs them).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './services.js';
import { waitFor } from './wait-for.js';

export const PROMETHEUS = '/usr/bin/prometheus';
export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/**
 * `skip` for a suite that needs `binary`: the install line when it is absent — except under
 * CI=true, where the suite runs and fails, so a CI that lost the package cannot pass by skipping.
 */
export function needBinary(binary: string, pkg: string): string | false {
  if (existsSync(binary) || process.env['CI'] === 'true') return false;
  return `${binary} is not installed: apt-get install ${pkg} (.ci/run installs it)`;
}

export interface Daemon {
  url: string;
  dir: string;
  process: ChildProcess;
  /** Its output so far, for failure messages. */
  output: () => string;
  close: () => Promise<void>;
}

async function start(
  prefix: string,
  binary: string,
  args: (dir: string, port: number) => string[],
  config: string,
  ready: string,
): Promise<Daemon> {
  if (!existsSync(binary)) throw new Error(`${binary} is not installed (.ci/run installs it)`);
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, 'config.yml'), config);
  const port = await freePort();
  const child = spawn(binary, args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `${binary} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${binary} exited (${child.exitCode})`);
        return fetch(`${url}${ready}`).then(
          (res) => res.ok,
          () => false, // not listening yet
        );
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return { url, dir, process: child, output: () => output, close };
}

/** Prometheus scraping `targets` (host:port) every second. */
export function startPrometheus(targets: string[]): Promise<Daemon> {
  return start(
    'faultline-prometheus-',
    PROMETHEUS,
    (dir, port) => [
      `--config.file=${join(dir, 'config.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: app\n    static_configs: [{ targets: ${JSON.stringify(targets)} }]\n`,
    '/-/ready',
  );
}

/** Alertmanager with clustering off and a receiver that sends nothing. */
export function startAlertmanager(): Promise<Daemon> {
  return start(
    'faultline-alertmanager-',
    ALERTMANAGER,
    (dir, port) => [
      `--config.file=${join(dir, 'config.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    'route: { receiver: nobody }\nreceivers: [{ name: nobody }]\n',
    '/-/ready',
  );
}

/** Pushes alerts to Alertmanager's API (POST /api/v2/alerts), firing for five minutes. */
export async function pushAlert(url: string, labels: Record<string, string>): Promise<void> {
  const now = Date.now();
  const res = await fetch(`${url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels,
        annotations: { summary: 'pushed by a faultline test' },
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 5 * 60_000).toISOString(),
      },
    ]),
  });
  if (!res.ok)
    throw new Error(`Alertmanager refused the alert: HTTP ${res.status} ${await res.text()}`);
}

/**
 * A service with Prometheus counters: `app_requests_total` grows by 100/s, `app_errors_total`
 * by `errorsPerSecond` (0 until the test raises it).
 */
export async function startCountingService(): Promise<{
  address: string;
  setErrorsPerSecond: (n: number) => void;
  close: () => Promise<void>;
}> {
  let requests = 0;
  let errors = 0;
  let errorsPerSecond = 0;
  const tick = setInterval(() => {
    requests += 10;
    errors += errorsPerSecond / 10;
  }, 100);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE app_requests_total counter\napp_requests_total ${requests}\n# TYPE app_errors_total counter\napp_errors_total ${errors}\n`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    setErrorsPerSecond: (n) => (errorsPerSecond = n),
    close: () => {
      clearInterval(tick);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
