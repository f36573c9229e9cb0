// What `faultline run` tells its user, against real sockets: --dry-run shows the load, the
// thresholds, the stop conditions and each fault, and checks without applying anything that the
// listen ports are free, the upstreams answer and the URLs resolve, each problem located in the
// file; a real run stops at a busy port with the same located message; on a terminal the load's
// live numbers rewrite one line; the summary says what happened under the fault against the
// baseline and what each fault touched.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { runCli } from '../helpers/cli.js';
import { freePort, startEcho, startService } from '../helpers/services.js';

describe('faultline run: dry run and output', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let service: Awaited<ReturnType<typeof startService>>;
  let proxyPort: number;
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env['PATH'],
    FAULTLINE_STATE_DIR: join(dir, 'state'),
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-run-output-'));
    echo = await startEcho();
    proxyPort = await freePort();
    service = await startService(proxyPort, 2_000);
  });
  after(async () => {
    await service.close();
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An experiment file: a proxy in front of the echo server, load on the service behind it. */
  async function experiment(
    name: string,
    over: { listen?: string; upstream?: string; url?: string } = {},
  ): Promise<string> {
    await writeFile(
      join(dir, name),
      stringify({
        title: 'slow dependency',
        targets: {
          db: {
            type: 'proxy',
            listen: over.listen ?? `127.0.0.1:${proxyPort}`,
            upstream: over.upstream ?? echo.address,
          },
        },
        steadyState: {
          load: {
            url: over.url ?? `${service.url}/health`,
            rate: '20/s',
            baseline: '1s',
            recovery: '1s',
            timeout: '2s',
          },
          thresholds: ['p99 < 1500ms', 'error_rate < 50%'],
        },
        method: [{ fault: 'latency', target: 'db', delay: '50ms', duration: '1s', name: 'slow' }],
        safety: { maxDuration: '30s', abortWhen: ['error_rate > 90% for 1s'] },
      }),
    );
    return name;
  }

  it('--dry-run shows the load, thresholds, stop conditions and faults, and checks them', async () => {
    const file = await experiment('ok.yaml');
    const result = await runCli(['run', file, '--dry-run'], { cwd: dir, env: env() });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const out = result.stdout;
    assert.match(out, /load: GET http:\/\/127\.0\.0\.1:\d+\/health at 20 req\/s/);
    assert.match(out, /thresholds: p99 < 1500ms, error_rate < 50%/);
    assert.match(out, /- load: error_rate > 90% for 1s/);
    assert.match(out, /fault slow: latency 50ms on db .*for 1s/);
    assert.match(out, new RegExp(`✔ target db listens on 127\\.0\\.0\\.1:${proxyPort}`));
    assert.match(out, /✔ target db's upstream 127\.0\.0\.1:\d+ answers/);
    assert.match(out, /✔ http:\/\/127\.0\.0\.1:\d+\/health resolves/);
    assert.match(out, /every check passed; nothing was applied/);
    // Nothing was left listening: the port is free for the run.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(proxyPort, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('a port in use, a dead upstream and a host that does not resolve: each named and located', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const busyPort = (busy.address() as { port: number }).port;
    const deadPort = await freePort();
    try {
      const file = await experiment('bad.yaml', {
        listen: `127.0.0.1:${busyPort}`,
        upstream: `127.0.0.1:${deadPort}`,
        url: 'http://no-such-host.invalid/health',
      });
      const dry = await runCli(['run', file, '--dry-run'], { cwd: dir, env: env() });
      assert.equal(dry.code, 4, dry.stdout + dry.stderr);
      // targets.db.listen is line 5 of the YAML (title, targets:, db:, type:, listen:).
      assert.match(
        dry.stdout,
        new RegExp(
          `✗ bad\\.yaml:5:\\d+ \\(targets\\.db\\.listen\\): 127\\.0\\.0\\.1:${busyPort} cannot be listened on: already in use`,
        ),
      );
      assert.match(
        dry.stdout,
        new RegExp(
          `✗ bad\\.yaml:6:\\d+ \\(targets\\.db\\.upstream\\): the upstream 127\\.0\\.0\\.1:${deadPort} of target db is unreachable \\(ECONNREFUSED\\)`,
        ),
      );
      assert.match(
        dry.stdout,
        /✗ bad\.yaml:\d+:\d+ \(steadyState\.load\.url\): the host no-such-host\.invalid of http:\/\/no-such-host\.invalid\/health does not resolve/,
      );
      assert.match(dry.stdout, /3 problem\(s\); nothing was applied/);

      // The real run stops at the busy port with the same located message, not a bare exit 4.
      const run = await runCli(['run', file], { cwd: dir, env: env() });
      assert.equal(run.code, 4, run.stdout + run.stderr);
      assert.match(run.stderr, /bad\.yaml:5:\d+ \(targets\.db\.listen\).*already in use/);
      assert.match(run.stderr, /upstream .* is unreachable \(ECONNREFUSED\)/);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it(
    'on a terminal: live load lines; the summary says what happened under the fault and what it touched',
    { timeout: 60_000 },
    async () => {
      const file = await experiment('live.yaml');
      const stdout = Object.assign(new PassThrough(), { isTTY: true });
      const stderr = new PassThrough();
      let out = '';
      stdout.on('data', (d: Buffer) => (out += d.toString()));
      stderr.resume();
      const code = await main({
        argv: ['run', file],
        env: env(),
        cwd: dir,
        stdout,
        stderr,
        signal: new AbortController().signal,
      });
      assert.ok(code === 0 || code === 1, `held or deviated, exit ${code}:\n${out}`);
      // A live line rewrites itself in place: carriage return, clear line, the numbers.
      assert.ok(out.includes('\r\x1b[2K['), 'a live line rewrites itself in place');
      assert.match(out, /\] load: \d+ req\/s, p50 \d+ ms, p99 \d+ ms, errors [\d.]+ %/);
      assert.match(
        out,
        /under the fault: p99 [\d.]+ (ms|s), errors [\d.]+ % \(baseline p99 [\d.]+ (ms|s), errors [\d.]+ %\)/,
      );
      assert.match(out, /fault slow on db: removed; touched \d+ connection\(s\)/);
    },
  );
});
