// `faultline demo` itself, start to finish, as a user runs it: the real CLI in a child process,
// embedded PostgreSQL (PGlite), its own Redis, both builds. Then Ctrl-C in the middle of a
// fault: exit 130 and nothing left running (no service, no redis-server, no proxy).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'src/cli/main.ts');
// Resolved here: the demo runs in a temporary directory where `tsx` is not resolvable.
const TSX = import.meta.resolve('tsx');

/** Processes whose environment or command line mentions `dir` (what the demo started there). */
async function processesUsing(dir: string): Promise<string[]> {
  // (`dir` may also be any other marker, such as `redis-server 127.0.0.1:PORT`.)
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1');
      if (environ.includes(dir) || cmdline.includes(dir)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

function startDemo(cwd: string, args: string[] = []): { child: ReturnType<typeof spawn>; dir: string; output: () => string; exited: Promise<number | null> } {
  let out = '';
  // FAULTLINE_DEMO_MARK puts the test's directory into the environment of everything the demo
  // starts, so leftovers can be found by it.
  const child = spawn(process.execPath, ['--import', TSX, cli, 'demo', '--dir', join(cwd, 'demo'), ...args], {
    cwd,
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', FAULTLINE_DEMO_MARK: cwd },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, dir: cwd, output: () => out, exited };
}

describe('faultline demo (the CLI, embedded PostgreSQL)', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'faultline-demo-cli-'));
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('runs start to finish: fragile found out, resilient held, exit 0, nothing left running', { timeout: 180_000 }, async () => {
    const started = Date.now();
    const demo = startDemo(cwd);
    const code = await demo.exited;
    const out = demo.output();
    assert.equal(code, 0, out);
    assert.ok(Date.now() - started < 120_000, 'under two minutes');
    assert.match(out, /embedded PostgreSQL \(PGlite over pglite-socket\)/);
    assert.match(out, /run 1\/2 — the fragile build/);
    assert.match(out, /verdict: (DEVIATED|ABORTED)/);
    assert.match(out, /verdict: HELD/);
    assert.match(out, /load: \d+ req\/s, p50/, 'live numbers');
    assert.match(out, /^fragile +(deviated|aborted) /m);
    assert.match(out, /^resilient +held /m);
    assert.match(out, /as expected/);
    const journals = out.match(/journal: +(\S+)/g) ?? [];
    assert.equal(journals.length, 2);
    for (const line of journals) assert.ok(existsSync(line.replace(/journal: +/, '')), line);
    const reports = out.match(/report: +(\S+)/g) ?? [];
    assert.equal(reports.length, 2);
    for (const line of reports) assert.match(readFileSync(line.replace(/report: +/, ''), 'utf8'), /<html[\s>]/i, line);
    assert.deepEqual(await leftovers(demo), []);
  });

  it('Ctrl-C during the fault: exit 130, the fault removed, nothing left running', { timeout: 120_000 }, async () => {
    const demo = startDemo(cwd, ['--dir', join(cwd, 'interrupted')]);
    await waitForFault(demo);
    demo.child.kill('SIGINT');
    const code = await demo.exited;
    const out = demo.output();
    assert.equal(code, 130, out);
    assert.match(out, /↺ latency-1 removed/);
    assert.match(out, /interrupted/);
    assert.deepEqual(await leftovers(demo), []);
  });

  it('SIGKILLed during the fault: the service and redis-server it started stop by themselves', { timeout: 120_000 }, async () => {
    const demo = startDemo(cwd, ['--dir', join(cwd, 'killed')]);
    await waitForFault(demo);
    const before = await processesUsing(cwd);
    assert.ok(before.some((p) => p.includes('payment-service-main')), `the payment service runs: ${before.join('\n')}`);
    if (hasRedisServer) assert.ok((await leftovers(demo)).some((p) => p.startsWith('redis-server')), 'the private redis-server runs');
    // No exit hook, no signal handler runs: only the pipes the kernel closes tell the children.
    demo.child.kill('SIGKILL');
    await demo.exited;
    const deadline = Date.now() + 15_000;
    let left = await leftovers(demo);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = await leftovers(demo);
    }
    assert.deepEqual(left, [], 'nothing the demo started outlives it');
  });
});

/**
 * What the demo started and is still running: processes marked with the test's directory, and
 * its private redis-server, which rewrites its command line and environment to
 * `redis-server HOST:PORT` and is found by the port the demo printed (marked `redis-server …`).
 */
async function leftovers(demo: ReturnType<typeof startDemo>): Promise<string[]> {
  const redisPort = /session cache: a private redis-server on 127\.0\.0\.1:(\d+)/.exec(demo.output())?.[1];
  if (hasRedisServer) assert.ok(redisPort, `a private redis-server was started: ${demo.output()}`);
  const redis = redisPort ? (await processesUsing(`redis-server 127.0.0.1:${redisPort}`)).map((p) => `redis-server ${p}`) : [];
  return [...(await processesUsing(demo.dir)), ...redis];
}

/** Resolves when the demo prints its first fault line (⚡); rejects if it exits first. */
function waitForFault(demo: ReturnType<typeof startDemo>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (demo.output().includes('⚡')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    demo.exited.then(() => {
      clearInterval(timer);
      reject(new Error(`exited before the fault: ${demo.output()}`));
    });
  });
}
