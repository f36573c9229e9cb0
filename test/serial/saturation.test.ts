// A proxy saturated by 500 connections streaming as fast as it can move them still answers its
// control API quickly, and every stream keeps moving. Without a per-turn budget of bulk reads,
// libuv reads up to 2 MiB from every readable socket per loop turn, a turn lasts longer than a
// second, and adding or removing a fault (or a stop condition removing one) waits that long.
//
// Three processes, so that each measures only what it should: `faultline proxy serve` (the system
// under test), a flood child (source and clients, test/helpers/flood.ts), and this process, whose
// event loop stays free to time the API calls.
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { ProxyApiClient } from '../../src/index.js';
import { freePort } from '../helpers/services.js';
import { waitFor, watchOutput } from '../helpers/wait-for.js';
import { entryArgs } from '../helpers/entry.js';

const CONNECTIONS = 500;
const root = new URL('../..', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');

function ask<T>(child: ChildProcess, message: object, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Record<string, unknown>): void => {
      if (!(key in reply)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(reply as T);
    };
    const onExit = (code: number | null): void => reject(new Error(`flood child exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (Object.keys(message).length > 0) child.send(message);
  });
}

describe('a saturated proxy', () => {
  let serve: ChildProcess;
  let flood: ChildProcess;
  let api: ProxyApiClient;

  before(async () => {
    const apiPort = await freePort();
    serve = spawn(
      process.execPath,
      entryArgs('cli/main', 'proxy', 'serve', '--port', String(apiPort)),
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await watchOutput(serve.stdout).waitFor('API on', 'proxy serve to listen', { child: serve });
    api = new ProxyApiClient({ url: `http://127.0.0.1:${apiPort}` });
    flood = fork(`${root}test/helpers/flood.ts`, [], {
      execArgv: ['--import', TSX],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { source } = await ask<{ source: number }>(flood, {}, 'source');
    const listen = await freePort();
    await api.createProxy({
      name: 'flood',
      listen: `127.0.0.1:${listen}`,
      upstream: `127.0.0.1:${source}`,
    });
    // Connections first, streams after: a saturated proxy accepts slowly, which is not what this
    // test is about.
    await ask(flood, { connect: listen, count: CONNECTIONS }, 'connected');
    flood.send({ go: true });
  });

  after(async () => {
    flood?.kill('SIGKILL');
    if (serve && serve.exitCode === null) {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });

  it(
    'answers add/remove-toxic calls within 250 ms while 500 streams saturate it, and every stream moves',
    { timeout: 120_000 },
    async () => {
      // Saturated: wait until a few hundred MB went through.
      const stats = (): Promise<{ total: number; perClient: number[] }> =>
        ask(flood, { stats: true }, 'total');
      await waitFor(
        '300 MB through the saturated proxy',
        async () => (await stats()).total >= 300e6,
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      const startBytes = await stats();
      const timings: number[] = [];
      const timed = async (call: () => Promise<unknown>): Promise<void> => {
        const t0 = performance.now();
        await call();
        timings.push(performance.now() - t0);
      };
      // At least 20 add/remove pairs, and for at least 2 s: the streams take turns (a
      // bounded number of bulk reads per loop turn, round-robin), so a window shorter than one
      // rotation through 500 streams could leave one unread without any starving.
      const windowStarted = performance.now();
      for (let i = 0; i < 20 || performance.now() - windowStarted < 2_000; i++) {
        await timed(() =>
          api.addToxic('flood', {
            name: `l${i}`,
            type: 'latency',
            stream: 'downstream',
            attributes: { latency: 1 },
          }),
        );
        await timed(() => api.removeToxic('flood', `l${i}`));
      }
      const windowMs = Math.round(performance.now() - windowStarted);
      const endBytes = await stats();
      timings.sort((a, b) => a - b);
      const moved = endBytes.perClient.map((b, i) => b - startBytes.perClient[i]!);
      const movedMb = (endBytes.total - startBytes.total) / 1e6;
      assert.ok(
        timings.at(-1)! < 250,
        `slowest call ${timings.at(-1)!.toFixed(0)} ms (median ${timings[timings.length >> 1]!.toFixed(0)} ms, ${timings.length} calls); the stop-condition target is 250 ms`,
      );
      assert.ok(
        Math.min(...moved) > 0,
        `every stream moved during the calls (slowest: ${Math.min(...moved)} bytes in ${windowMs} ms)`,
      );
      assert.ok(movedMb > 0, 'the streams kept flowing');
    },
  );
});
