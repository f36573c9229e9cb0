// The load generator against real HTTP servers on port 0 that misbehave on cue.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { runLoad } from '../../src/load/generator.js';
import type { LoadMetrics } from '../../src/load/metrics.js';
import { runCli, type CliResult } from '../helpers/cli.js';

/** A server that, one second after its first request, stalls every answer for `stallMs`. */
async function stallingServer(stallMs: number): Promise<{ url: string; server: Server }> {
  let first: number | undefined;
  let stallFrom = Infinity;
  const server = createServer((req, res) => {
    const now = Date.now();
    if (first === undefined) {
      first = now;
      stallFrom = now + 1000;
    }
    const answer = (): void => {
      res.writeHead(req.url === '/error' ? 500 : 200, { 'content-type': 'text/plain' }).end('ok');
    };
    if (now >= stallFrom && now < stallFrom + stallMs)
      setTimeout(answer, stallFrom + stallMs - now);
    else answer();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('load generator', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  /** A server that notes when each request arrives and answers after `delayMs`; its URL. */
  async function arrivalServer(delayMs: number): Promise<{ url: string; arrivals: number[] }> {
    const arrivals: number[] = [];
    const server = createServer((_req, res) => {
      arrivals.push(performance.now());
      if (delayMs > 0) setTimeout(() => res.end('ok'), delayMs);
      else res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, arrivals };
  }

  it(
    'open model: holds the rate and sees a 1 s stall that a closed loop hides',
    { timeout: 30_000 },
    async () => {
      const open = await stallingServer(1000);
      const closed = await stallingServer(1000);
      servers.push(open.server, closed.server);
      const [openReport, closedReport] = await Promise.all([
        runLoad({ url: `${open.url}/`, stages: [{ durationMs: 3000, from: 200 }] }),
        runLoad({ url: `${closed.url}/`, closed: { concurrency: 4, durationMs: 3000 } }),
      ]);
      // The open model sent what was scheduled, on time, and saw the stall in its percentiles.
      assert.equal(openReport.total.scheduled, 600);
      assert.equal(openReport.total.completed, 600);
      assert.ok(openReport.total.p99 >= 800, `open model p99 ${openReport.total.p99} ms`);
      assert.ok(openReport.total.max >= 900);
      assert.ok(openReport.total.p50 < openReport.total.p99);
      // A closed loop only saw 4 slow requests among thousands: its p99 hides the stall.
      assert.ok(
        closedReport.total.completed > 1000,
        `closed completed ${closedReport.total.completed}`,
      );
      assert.ok(
        closedReport.total.p99 < 100,
        `closed model p99 ${closedReport.total.p99} ms hides the stall`,
      );
      assert.ok(closedReport.total.max >= 900, 'though its max shows it');
      // Per-second series: the stalled second shows up.
      assert.ok(openReport.series.some((s) => s.p99 >= 500));
    },
  );

  it(
    'sends in batches at most one send window early, and times early sends from their send',
    { timeout: 30_000 },
    async () => {
      // Every answer takes 50 ms. Requests are due every 10 ms and may leave up to 20 ms early:
      // a latency timed from the due time would show as little as 30 ms.
      const { url, arrivals } = await arrivalServer(50);
      let metrics: LoadMetrics | undefined;
      const report = await runLoad({
        url,
        stages: [{ durationMs: 2000, from: 100 }],
        sendWindowMs: 20,
        onStart: (m) => (metrics = m),
      });
      assert.equal(report.total.completed, 200);
      const fastest = metrics!.histogramMs(0, 10_000).minNonZeroValue / 1000;
      assert.ok(
        fastest >= 48,
        `fastest answer ${fastest} ms: early sends are timed from their send`,
      );
      // Request i is due at i × 10 ms after the start (same clock: the server runs in this
      // process): none arrived more than the window before it was due.
      arrivals.sort((a, b) => a - b);
      const start = metrics!.startMs;
      const earliest = Math.min(...arrivals.map((t, i) => t - start - i * 10));
      assert.ok(earliest >= -21, `a request arrived ${-earliest} ms before it was due`);
      // And they came in batches: fewer distinct 2-ms groups than requests.
      const groups = arrivals.filter((t, i) => i === 0 || t - arrivals[i - 1]! > 2).length;
      assert.ok(groups < 150, `${groups} groups of arrivals for 200 requests`);
    },
  );

  it(
    'at a low rate sends about 20 arrivals per wake-up, never into the next second of the schedule',
    { timeout: 30_000 },
    async () => {
      // 500/s: the adaptive window is 40 ms (20 arrivals), capped at each second's end, so the
      // server sees each second's 500 requests within that second, not only by due time.
      const { url, arrivals } = await arrivalServer(0);
      let metrics: LoadMetrics | undefined;
      const report = await runLoad({
        url,
        stages: [{ durationMs: 3000, from: 500 }],
        onStart: (m) => (metrics = m),
      });
      assert.equal(report.total.completed, 1500);
      const start = metrics!.startMs;
      const perSecond = [0, 0, 0];
      for (const t of arrivals) {
        const second = Math.floor((t - start) / 1000);
        if (second >= 0 && second < 3) perSecond[second]!++;
      }
      for (const [second, n] of perSecond.entries())
        assert.ok(Math.abs(n - 500) <= 5, `second ${second}: ${n} requests arrived (500 due)`);
      // Batches: a 2-ms gap separates groups; about 25 per second (20 arrivals each).
      arrivals.sort((a, b) => a - b);
      const groups = arrivals.filter((t, i) => i === 0 || t - arrivals[i - 1]! > 2).length;
      assert.ok(groups < 300, `${groups} groups of arrivals for 1,500 requests`);
    },
  );

  it(
    'counts status classes, errors and timeouts, and reports each second live',
    { timeout: 30_000 },
    async () => {
      const { url, server } = await stallingServer(3000);
      servers.push(server);
      const seconds: number[] = [];
      const report = await runLoad({
        url: `${url}/error`,
        stages: [{ durationMs: 2000, from: 50 }],
        timeoutMs: 300,
        onSecond: (second) => seconds.push(second),
      });
      assert.equal(report.total.scheduled, 100);
      assert.ok(report.total.status['5xx'] > 0, 'HTTP 500 counted');
      assert.ok(report.total.timeouts > 0, 'stalled requests time out and count as errors');
      assert.equal(report.total.errors, report.total.timeouts);
      assert.equal(report.total.error_rate, 1);
      assert.deepEqual(seconds.slice(0, 2), [0, 1]);
    },
  );

  it('ramps the rate', { timeout: 30_000 }, async () => {
    const { url, server } = await stallingServer(0);
    servers.push(server);
    const report = await runLoad({ url, stages: [{ durationMs: 2000, from: 0, to: 200 }] });
    assert.equal(report.total.scheduled, 200);
    const [first, second] = report.series;
    assert.ok(
      first && second && first.scheduled < second.scheduled,
      `ramp: ${first?.scheduled} then ${second?.scheduled}`,
    );
    assert.equal(report.health.dropped, 0);
  });

  it('says when it could not hold the rate', { timeout: 30_000 }, async () => {
    const { url, server } = await stallingServer(0);
    servers.push(server);
    // Block the event loop for 300 ms mid-run: the generator cannot send on time then.
    setTimeout(() => {
      const until = Date.now() + 300;
      while (Date.now() < until);
    }, 300);
    const report = await runLoad({ url, stages: [{ durationMs: 1000, from: 200 }] });
    assert.equal(report.health.trustworthy, false);
    assert.ok(report.health.late > 0);
    assert.match(report.health.problems.join(' '), /late|lag/);
  });
});

describe('faultline load (CLI)', () => {
  const cli = (argv: string[]): Promise<CliResult> => runCli(argv);

  it(
    'takes --send-window for exact spacing, and refuses a bad one with exit 2',
    { timeout: 30_000 },
    async () => {
      const server = createServer((_req, res) => res.end('ok'));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const ok = await cli([
          'load',
          url,
          '--rate',
          '200/s',
          '--duration',
          '1s',
          '--send-window',
          '0.5ms',
          '--json',
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        const report = JSON.parse(ok.stdout) as {
          total: { completed: number; status: { '2xx': number } };
        };
        assert.equal(report.total.completed, 200);
        assert.equal(report.total.status['2xx'], 200);
        const bad = await cli([
          'load',
          url,
          '--rate',
          '200/s',
          '--duration',
          '1s',
          '--send-window',
          '1h',
        ]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--send-window 1h: expected a duration from 0.1ms to 100ms/);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    },
  );
});
